// maxpool2: 2x2 stride-2 max pool on a pixel stream (golden.model.maxpool2).
//
// Parameters:
//   C     channels per pixel (default 4)
//   BITS  bits per channel, unsigned (default 4)
//   W, H  input frame width and height, both even (default 28 x 28)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[C*BITS-1:0], s_axis_tvalid, s_axis_tready, s_axis_tlast   input pixels, raster
//   m_axis_tdata[C*BITS-1:0], m_axis_tvalid, m_axis_tready, m_axis_tlast   (W/2 x H/2) output
// Architecture:
//   a W/2-entry row buffer of partial maxima (per channel) of the even row, one holding register
//   for the pair of the current row; the output (max of the 2x2 block) is registered on the
//   beat at odd row / odd column; tlast on the output of the input's tlast beat. A (y, x) input
//   counter wraps at the frame end and on tlast. s_axis_tready is low only on an odd/odd beat
//   while the output register is full and not taken.
// Latency: 1 cycle (the output is valid the cycle after its odd/odd input beat); a frame with
//   input every clock takes H*W cycles from the first input beat to the last output beat
//   (last output cycle - first input cycle = H*W).
`timescale 1ns / 1ps
`default_nettype none
module maxpool2 #(
    parameter C = 4,
    parameter BITS = 4,
    parameter W = 28,
    parameter H = 28
) (
    input  wire              clk,
    input  wire              rst,
    input  wire [C*BITS-1:0] s_axis_tdata,
    input  wire              s_axis_tvalid,
    output wire              s_axis_tready,
    input  wire              s_axis_tlast,
    output wire [C*BITS-1:0] m_axis_tdata,
    output wire              m_axis_tvalid,
    input  wire              m_axis_tready,
    output wire              m_axis_tlast
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (C < 1) begin : g_check_c_must_be_at_least_1
        C_must_be_at_least_1 C_must_be_at_least_1();
    end
    if (BITS < 1) begin : g_check_bits_must_be_at_least_1
        BITS_must_be_at_least_1 BITS_must_be_at_least_1();
    end
    if (W % 2 != 0) begin : g_check_w_must_be_even
        W_must_be_even W_must_be_even();
    end
    if (H % 2 != 0) begin : g_check_h_must_be_even
        H_must_be_even H_must_be_even();
    end
    if (W < 4) begin : g_check_w_must_be_at_least_4
        W_must_be_at_least_4 W_must_be_at_least_4();
    end
    if (H < 2) begin : g_check_h_must_be_at_least_2
        H_must_be_at_least_2 H_must_be_at_least_2();
    end
endgenerate

localparam PB = C*BITS;
localparam W2 = W / 2;
localparam XW = $clog2(W);
localparam YW = $clog2(H);
localparam [31:0] XMAX_32 = W - 1;
localparam [31:0] YMAX_32 = H - 1;
localparam [XW-1:0] XMAX = XMAX_32[XW-1:0];
localparam [YW-1:0] YMAX = YMAX_32[YW-1:0];

reg [PB-1:0] row_mem [0:W2-1];
reg [PB-1:0] hold_reg = {PB{1'b0}}, hold_next;
reg [XW-1:0] x_reg = {XW{1'b0}}, x_next;
reg [YW-1:0] y_reg = {YW{1'b0}}, y_next;
reg [PB-1:0] m_axis_tdata_reg = {PB{1'b0}}, m_axis_tdata_next;
reg          m_axis_tvalid_reg = 1'b0, m_axis_tvalid_next;
reg          m_axis_tlast_reg = 1'b0, m_axis_tlast_next;
reg          row_we;
reg [PB-1:0] row_wdata;

integer k;
initial begin
    for (k = 0; k < W2; k = k + 1) begin
        row_mem[k] = {PB{1'b0}};
    end
end

wire is_out = y_reg[0] && x_reg[0];
wire accept = s_axis_tvalid && s_axis_tready;
wire [XW-2:0] col = x_reg[XW-1:1];
wire [PB-1:0] row_rd = row_mem[col];

assign s_axis_tready = !is_out || !m_axis_tvalid_reg || m_axis_tready;
assign m_axis_tdata = m_axis_tdata_reg;
assign m_axis_tvalid = m_axis_tvalid_reg;
assign m_axis_tlast = m_axis_tlast_reg;

// per-channel maximum of two pixels
function [PB-1:0] pmax;
    input [PB-1:0] a;
    input [PB-1:0] b;
    integer c;
    begin
        pmax = {PB{1'b0}};
        for (c = 0; c < C; c = c + 1) begin
            pmax[c*BITS +: BITS] = (a[c*BITS +: BITS] > b[c*BITS +: BITS]) ? a[c*BITS +: BITS] : b[c*BITS +: BITS];
        end
    end
endfunction

always @* begin
    hold_next = hold_reg;
    x_next = x_reg;
    y_next = y_reg;
    m_axis_tdata_next = m_axis_tdata_reg;
    m_axis_tvalid_next = m_axis_tvalid_reg && !m_axis_tready;
    m_axis_tlast_next = m_axis_tlast_reg;
    row_we = 1'b0;
    row_wdata = pmax(hold_reg, s_axis_tdata);
    if (accept) begin
        if (!x_reg[0]) begin
            // even column: start a pair (odd row: with the even row's partial maximum)
            hold_next = y_reg[0] ? pmax(row_rd, s_axis_tdata) : s_axis_tdata;
        end else if (!y_reg[0]) begin
            // even row, odd column: store the partial maximum of the pair
            row_we = 1'b1;
        end else begin
            // odd row, odd column: 2x2 block complete
            m_axis_tdata_next = pmax(hold_reg, s_axis_tdata);
            m_axis_tvalid_next = 1'b1;
            m_axis_tlast_next = s_axis_tlast;
        end
        if (s_axis_tlast || (x_reg == XMAX && y_reg == YMAX)) begin
            x_next = {XW{1'b0}};
            y_next = {YW{1'b0}};
        end else if (x_reg == XMAX) begin
            x_next = {XW{1'b0}};
            y_next = y_reg + 1'b1;
        end else begin
            x_next = x_reg + 1'b1;
        end
    end
end

always @(posedge clk) begin
    hold_reg <= hold_next;
    x_reg <= x_next;
    y_reg <= y_next;
    m_axis_tdata_reg <= m_axis_tdata_next;
    m_axis_tvalid_reg <= m_axis_tvalid_next;
    m_axis_tlast_reg <= m_axis_tlast_next;
    if (row_we) begin
        row_mem[col] <= row_wdata;
    end
    if (rst) begin
        hold_reg <= {PB{1'b0}};
        x_reg <= {XW{1'b0}};
        y_reg <= {YW{1'b0}};
        m_axis_tdata_reg <= {PB{1'b0}};
        m_axis_tvalid_reg <= 1'b0;
        m_axis_tlast_reg <= 1'b0;
    end
end

`ifdef FORMAL
// Formal (make formal, formal/f_maxpool2.v): completed 2x2 blocks - beats out at the ports =
// the output register (0 or 1), the (y, x) counter stays inside the frame.
reg [1:0] f_inflight = 2'd0;
always @(posedge clk) begin
    f_inflight <= f_inflight + {1'b0, accept && is_out} - {1'b0, m_axis_tvalid && m_axis_tready};
    if (rst) begin
        f_inflight <= 2'd0;
    end
end
always @* begin
    assert(f_inflight == {1'b0, m_axis_tvalid_reg});
    assert(x_reg <= XMAX && y_reg <= YMAX);
end
`endif

endmodule
`default_nettype wire
