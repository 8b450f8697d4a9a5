// window3x3_cols: the 3x3 sliding window of window3x3 as column beats, for a consumer that keeps
// the last columns itself (conv_qgp_ring): no 9-tap output register, one beat per shift.
//
// Parameters: C, BITS, W, H, LINE_RAM, LINE_RAM_STYLE as window3x3 (LINE_RAM: the two row
//   memories are W words deep).
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[C*BITS-1:0], s_axis_tvalid, s_axis_tready, s_axis_tlast   pixels, as window3x3
//   m_axis_tdata[3*C*BITS-1:0]  the column that entered the window, entries 2W, W, 0 after the
//     shift (rows dy = -1, 0, +1 of the window's dx = +1 column): row r = dy+1, channel c at
//     [(r*C + c)*BITS +: BITS], not masked
//   m_axis_win    the shift emitted a window (centre entry valid); the window of a win column is
//                 that column (dx = +1) and the two columns before it (dx = 0, -1)
//   m_axis_padl / m_axis_padr  that window's centre is at x = 0 / x = W-1 (its dx = -1 / +1
//                 column is outside the frame)
//   m_axis_ztop / m_axis_zbot  the column's row dy = -1 / +1 is outside the frame for every
//                 window that uses the column inside the frame (the row of entry W is 0 / H-1)
//   m_axis_need   some window uses the column inside the frame (as its dx = +1 column: the
//                 window of this shift, not at x = W-1; dx = 0: the next shift's window; dx = -1:
//                 the one after, not at x = 0), so a consumer may drop a column without need (the
//                 frame's first columns, those of flush bubbles)
//   m_axis_tvalid, m_axis_tready, m_axis_tlast (tlast on the column that emits the window of
//                 pixel (H-1, W-1))
// Architecture: window3x3_shift (COLS = 1). With LINE_RAM only the column's entries 0, W and 2W
//   are registers, the last two being the read registers of two memories of W words (each shift
//   writes entry 1 (entry W+1) and loads entry W (entry 2W), the word written W-1 shifts
//   earlier): 3 instead of window3x3's 7 pixel registers; a stale row reaches the consumer only
//   at rows outside the frame (ztop / zbot) or in columns without need. The column is the
//   storage's own registers (held until the next shift); the flags and the handshake are
//   registered here. A shift waits for the output register (every shift is a beat).
`timescale 1ns / 1ps
`default_nettype none
module window3x3_cols #(
    parameter C = 1,
    parameter BITS = 8,
    parameter W = 28,
    parameter H = 28,
    parameter LINE_RAM = (W >= 4) ? 1 : 0,
    parameter LINE_RAM_STYLE = "auto"
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [C*BITS-1:0]     s_axis_tdata,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,
    input  wire                  s_axis_tlast,
    output wire [3*C*BITS-1:0]   m_axis_tdata,
    output wire                  m_axis_win,
    output wire                  m_axis_padl,
    output wire                  m_axis_padr,
    output wire                  m_axis_ztop,
    output wire                  m_axis_zbot,
    output wire                  m_axis_need,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready,
    output wire                  m_axis_tlast
);

localparam PB = C*BITS;          // bits per pixel

reg  m_axis_tvalid_reg = 1'b0;
reg  m_axis_tlast_reg = 1'b0;
reg  win_reg = 1'b0, padl_reg = 1'b0, padr_reg = 1'b0;
reg  ztop_reg = 1'b0, zbot_reg = 1'b0, need_reg = 1'b0;
wire            out_free = !m_axis_tvalid_reg || m_axis_tready;
wire            shift, emit, at_last;
wire            x_first, x_last; // the centre pixel's column is the frame's first / last
wire            ya_first, ya_last;   // the column's entry W is in the frame's first / last row
wire            e1, e2, e3;      // the windows of this shift and of the next two
/* verilator lint_off UNUSEDSIGNAL */  // the window form's outputs
wire [9*PB-1:0] taps;
wire            y_first, y_last;
/* verilator lint_on UNUSEDSIGNAL */

window3x3_shift #(.C(C), .BITS(BITS), .W(W), .H(H), .LINE_RAM(LINE_RAM), .COLS(1),
                  .LINE_RAM_STYLE(LINE_RAM_STYLE)) engine (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast), .out_free(out_free), .shift(shift), .emit(emit),
    .at_last(at_last), .taps(taps), .column(m_axis_tdata), .x_first(x_first),
    .x_last(x_last), .y_first(y_first), .y_last(y_last), .ya_first(ya_first), .ya_last(ya_last),
    .e1(e1), .e2(e2), .e3(e3)
);

wire need = e2 || (e1 && !x_last) || (e3 && !e1 && !x_first);

assign m_axis_tvalid = m_axis_tvalid_reg;
assign m_axis_tlast = m_axis_tlast_reg;
assign m_axis_win = win_reg;
assign m_axis_padl = padl_reg;
assign m_axis_padr = padr_reg;
assign m_axis_ztop = ztop_reg;
assign m_axis_zbot = zbot_reg;
assign m_axis_need = need_reg;

always @(posedge clk) begin
    if (m_axis_tready) begin
        m_axis_tvalid_reg <= 1'b0;
    end
    if (shift) begin
        m_axis_tvalid_reg <= 1'b1;
        m_axis_tlast_reg <= emit && at_last;
        // rows of the column: entry W is in the next centre's row (ya_*)
        win_reg <= e1;
        padl_reg <= x_first;
        padr_reg <= x_last;
        ztop_reg <= ya_first;
        zbot_reg <= ya_last;
        need_reg <= need;
    end
    if (rst) begin
        m_axis_tvalid_reg <= 1'b0;
        m_axis_tlast_reg <= 1'b0;
        win_reg <= 1'b0;
        padl_reg <= 1'b0;
        padr_reg <= 1'b0;
        ztop_reg <= 1'b0;
        zbot_reg <= 1'b0;
        need_reg <= 1'b0;
    end
end

endmodule
`default_nettype wire
