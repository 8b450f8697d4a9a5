// window3x3: 3x3 sliding-window generator with zero padding, one pixel per clock.
//
// Parameters:
//   C         channels per pixel (default 1)
//   BITS      bits per channel value, unsigned (default 8)
//   W, H      frame width and height in pixels (default 28 x 28; W >= 2, H >= 2)
//   LINE_RAM  1: the two line delays are W-2 deep row memories (one per line, written and read
//             synchronously, so that synthesis maps them to LUT RAM or block RAM; needs W >= 4);
//             0: one flip-flop shift register; default 1 when W >= 4
//   LINE_RAM_STYLE  synthesis memory style of the two row memories: "auto", "block", "distributed"
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[C*BITS-1:0]    pixel, channel c at [c*BITS +: BITS], raster order
//   s_axis_tvalid, s_axis_tready, s_axis_tlast (tlast on the frame's last pixel)
//   m_axis_tdata[9*C*BITS-1:0]  window of the pixel at (y, x): tap t = (dy+1)*3 + (dx+1)
//                               channel c at [(t*C + c)*BITS +: BITS]; taps outside the frame = 0
//   m_axis_tvalid, m_axis_tready, m_axis_tlast (tlast on the window of pixel (H-1, W-1))
// Architecture:
//   a virtual shift register of 2W+3 pixel entries (entry 0 = newest), each with a valid bit;
//   the window centre is entry W+1; a (y, x) counter of the centre pixel selects the padding
//   mask. A shift happens on an accepted input beat, or on a bubble (invalid entry) when the
//   frame's tlast was the last beat accepted, fewer than W+1 shifts have happened since and no
//   input is valid: the last W+1 windows come out when the stream stops, and back-to-back frames
//   push them out with no stall. A shift is allowed only when the output register can take the
//   window (or the entry moving into the centre is invalid). The window is registered (m_axis_*
//   are registers). s_axis_tready depends combinationally on m_axis_tready.
//   Storage: the window after a shift reads entries 0 (the input beat), 1, 2, W, W+1, W+2, 2W,
//   2W+1 and 2W+2, i.e. the registers holding entries 0, 1, W-1, W, W+1, 2W-1, 2W, 2W+1 before
//   the shift. With LINE_RAM these eight are registers and entries 2..W-2 and W+2..2W-2 (the
//   two line delays) live in two memories of W-2 words that share one write and one read
//   pointer: each shift writes entry 1 (entry W+1) at the write pointer and loads entry W-1
//   (entry 2W-1) from the read pointer, the word written W-3 shifts earlier. Memory words never
//   written since power-up (or since a reset) reach the tap registers but only ever sit at taps
//   outside the frame, which the mask replaces by 0, exactly like the stale entries of the
//   shift register form.
//   The shift engine (counters, storage) is window3x3_shift, shared with window3x3_cols.
// Latency: with input every clock and output always ready, the window of pixel p is valid
//   W+2 cycles after pixel p was accepted; a frame takes H*W + W + 1 cycles from the first
//   input beat to the last output beat (last output cycle - first input cycle = H*W + W + 1).
`timescale 1ns / 1ps
`default_nettype none
module window3x3 #(
    parameter C = 1,
    parameter BITS = 8,
    parameter W = 28,
    parameter H = 28,
    parameter LINE_RAM = (W >= 4) ? 1 : 0,
    // synthesis memory style of the two row memories (LINE_RAM): "auto" (the tool decides),
    // "block" (block RAM, without a read-during-write bypass: never needed, see
    // window3x3_shift g_ram), "distributed"; written as the memories' ram_style attribute
    parameter LINE_RAM_STYLE = "auto"
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [C*BITS-1:0]     s_axis_tdata,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,
    input  wire                  s_axis_tlast,
    output wire [9*C*BITS-1:0]   m_axis_tdata,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready,
    output wire                  m_axis_tlast
);

localparam PB = C*BITS;          // bits per pixel

wire            out_free;        // the output register can take a beat this cycle
wire            emit, at_last;
wire [9*PB-1:0] taps;
wire            x_first, x_last, y_first, y_last;   // the centre pixel's place in the frame
/* verilator lint_off UNUSEDSIGNAL */  // the column form's outputs (a window needs emit only)
wire            shift;
wire [3*PB-1:0] column;
wire            ya_first, ya_last;
wire            e1, e2, e3;
/* verilator lint_on UNUSEDSIGNAL */

window3x3_shift #(.C(C), .BITS(BITS), .W(W), .H(H), .LINE_RAM(LINE_RAM), .COLS(0),
                  .LINE_RAM_STYLE(LINE_RAM_STYLE)) engine (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast), .out_free(out_free), .shift(shift), .emit(emit),
    .at_last(at_last), .taps(taps), .column(column), .x_first(x_first),
    .x_last(x_last), .y_first(y_first), .y_last(y_last), .ya_first(ya_first), .ya_last(ya_last),
    .e1(e1), .e2(e2), .e3(e3)
);

/* verilator lint_off WIDTHCONCAT */
reg [9*PB-1:0] m_axis_tdata_reg = {9*PB{1'b0}}, m_axis_tdata_next;   // 9 x 1,024 bits for 256 channels
/* verilator lint_on WIDTHCONCAT */
reg            m_axis_tvalid_reg = 1'b0, m_axis_tvalid_next;
reg            m_axis_tlast_reg = 1'b0, m_axis_tlast_next;
reg [8:0]      clear;   // taps of the output register set to 0: outside the frame, or reset
integer        t;
reg            in_y, in_x;

assign out_free = !m_axis_tvalid_reg || m_axis_tready;
assign m_axis_tdata = m_axis_tdata_reg;
assign m_axis_tvalid = m_axis_tvalid_reg;
assign m_axis_tlast = m_axis_tlast_reg;

always @* begin
    t = 0;
    in_y = 1'b0;
    in_x = 1'b0;
    clear = {9{rst}};
    m_axis_tdata_next = m_axis_tdata_reg;
    m_axis_tvalid_next = m_axis_tvalid_reg && !m_axis_tready;
    m_axis_tlast_next = m_axis_tlast_reg;
    if (emit) begin
        for (t = 0; t < 9; t = t + 1) begin
            in_y = !((t / 3 == 0) && y_first) && !((t / 3 == 2) && y_last);
            in_x = !((t % 3 == 0) && x_first) && !((t % 3 == 2) && x_last);
            m_axis_tdata_next[t*PB +: PB] = taps[t*PB +: PB];
            clear[t] = rst || !(in_y && in_x);
        end
        m_axis_tvalid_next = 1'b1;
        m_axis_tlast_next = at_last;
    end
    // zeroing last, as its own condition per tap: synthesis maps it to the flip-flops'
    // synchronous reset (one shared signal per tap) instead of a gate per bit
    for (t = 0; t < 9; t = t + 1) begin
        if (clear[t]) begin
            m_axis_tdata_next[t*PB +: PB] = {PB{1'b0}};
        end
    end
end

always @(posedge clk) begin
    m_axis_tdata_reg <= m_axis_tdata_next;
    m_axis_tvalid_reg <= m_axis_tvalid_next;
    m_axis_tlast_reg <= m_axis_tlast_next;
    if (rst) begin
        // m_axis_tdata_reg: cleared through m_axis_tdata_next (clear)
        m_axis_tvalid_reg <= 1'b0;
        m_axis_tlast_reg <= 1'b0;
    end
end

endmodule
`default_nettype wire
