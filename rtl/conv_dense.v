// conv_dense: dense 3x3 convolution (signed WBITS-bit weights x unsigned IN_BITS-bit inputs)
// fused with per-channel requantization, on a stream of 3x3 windows (the network's first layer).
//
//   acc[o] = sum_{i,t} w[o,i,t] * win[t][i]                 (golden.model.conv_dense_acc)
//   y[o]   = clamp((acc[o]*m[o] + b[o]) >>> SHIFT, 0, 2^ABITS-1)   (golden.model.requant)
//
// Parameters:
//   CI, CO    input / output channels (default 1, 4)
//   IN_BITS   input bits, unsigned (default 8)
//   WBITS     weight bits, signed (default 8)
//   ACC_W     accumulator width, signed (bundle acc_bits) (default 20)
//   PE        output channels computed per cycle; CO % PE == 0; FOLD = CO/PE cycles per window
//   M_W, B_W, PROD_W, SHIFT   requant widths and shift (bundle requant m_bits, b_bits,
//             prod_bits, shift)
//   ABITS     output activation bits (default 4)
//   W_FILE    $readmemh file, CO words of CI*9*WBITS bits, weight (i, t) at [(i*9+t)*WBITS +: WBITS]
//   M_FILE, B_FILE  $readmemh files, CO words of M_W / B_W bits (two's complement)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[9*CI*IN_BITS-1:0]  window (tap t, channel i at [(t*CI+i)*IN_BITS +: IN_BITS]),
//                                   as from window3x3; s_axis_tvalid, s_axis_tready, s_axis_tlast
//   m_axis_tdata[CO*ABITS-1:0]      output pixel, channel o at [o*ABITS +: ABITS];
//                                   m_axis_tvalid, m_axis_tready, m_axis_tlast (tlast passed on)
// Architecture: as conv_qgp, with 9*CI multipliers per PE lane (constants when FOLD = 1) and a
//   balanced adder tree over the 9*CI products -> stage 1; PE requant units -> stage 2; output
//   register collecting the FOLD groups of PE channels (conv_pipe, shared with conv_qgp).
// Latency: the window accepted in cycle t (its last fold) is on the output in cycle t+3;
//   a stream of P windows offered every clock with the output always ready takes P*FOLD + 2
//   cycles from the first window offered (tvalid) to the last output beat; the first window is
//   accepted FOLD-1 cycles after it is offered.
`timescale 1ns / 1ps
`default_nettype none
module conv_dense #(
    parameter CI = 1,
    parameter CO = 4,
    parameter IN_BITS = 8,
    parameter WBITS = 8,
    parameter ACC_W = 20,
    parameter PE = 4,
    parameter M_W = 16,
    parameter B_W = 32,
    parameter PROD_W = 48,
    parameter SHIFT = 16,
    parameter ABITS = 4,
    parameter W_FILE = "",
    parameter M_FILE = "",
    parameter B_FILE = ""
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire [9*CI*IN_BITS-1:0]   s_axis_tdata,
    input  wire                   s_axis_tvalid,
    output wire                   s_axis_tready,
    input  wire                   s_axis_tlast,
    output wire [CO*ABITS-1:0]    m_axis_tdata,
    output wire                   m_axis_tvalid,
    input  wire                   m_axis_tready,
    output wire                   m_axis_tlast
);

localparam FOLD = CO / PE;
localparam FW = (FOLD > 1) ? $clog2(FOLD) : 1;
localparam OW = (CO > 1) ? $clog2(CO) : 1;
localparam NT = 9*CI;                                 // products per output channel
localparam NP = 1 << $clog2(NT);                      // adder tree leaves (power of two)

// weight ROMs
reg [CI*9*WBITS-1:0] w_mem [0:CO-1];
reg [M_W-1:0]  m_mem [0:CO-1];
reg [B_W-1:0]  b_mem [0:CO-1];
initial begin
    $readmemh(W_FILE, w_mem);
    $readmemh(M_FILE, m_mem);
    $readmemh(B_FILE, b_mem);
end

// fold counter, pipeline registers and output assembly (conv_pipe); the datapaths below
// compute acc_lane for fold and y_lane from s1_acc / s1_fold
wire [FW-1:0]       fold, s1_fold;
wire [PE*ACC_W-1:0] s1_acc;
reg  [PE*ACC_W-1:0] acc_lane;  // stage 1 datapath result (combinational)
wire [PE*ABITS-1:0] y_lane;
conv_pipe #(.CO(CO), .PE(PE), .ACC_W(ACC_W), .ABITS(ABITS), .FW(FW)) pipe (
    .clk(clk), .rst(rst),
    .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast),
    .fold(fold), .acc_lane(acc_lane), .s1_acc(s1_acc), .s1_fold(s1_fold), .y_lane(y_lane),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

// stage 1 datapath: 9*CI multipliers + adder tree per PE lane
reg [ACC_W-1:0]      tree [0:2*NP-1];   // one lane's adder tree (heap order), reused per lane
reg [CI*9*WBITS-1:0] w_word;
reg [WBITS-1:0]      wsel;
reg [IN_BITS-1:0]    xsel;
reg [ACC_W-1:0]      w_ext;
reg [ACC_W-1:0]      x_ext;
reg [OW-1:0]         oidx;
integer p, i, t, j;
// 32-bit ROM index temporary: only the low OW bits address the CO-word ROMs, the upper bits
// are always zero (index < CO), so they are deliberately left unused.
/* verilator lint_off UNUSEDSIGNAL */
integer oi;
/* verilator lint_on UNUSEDSIGNAL */

always @* begin
    w_word = {CI*9*WBITS{1'b0}};
    wsel = {WBITS{1'b0}};
    xsel = {IN_BITS{1'b0}};
    w_ext = {ACC_W{1'b0}};
    x_ext = {ACC_W{1'b0}};
    oidx = {OW{1'b0}};
    oi = 0;
    p = 0;
    i = 0;
    t = 0;
    j = 0;
    acc_lane = {PE*ACC_W{1'b0}};
    for (p = 0; p < PE; p = p + 1) begin
        oi = fold * PE + p;
        oidx = oi[OW-1:0];
        w_word = w_mem[oidx];
        for (j = 0; j < NP; j = j + 1) begin
            tree[NP + j] = {ACC_W{1'b0}};
        end
        for (i = 0; i < CI; i = i + 1) begin
            for (t = 0; t < 9; t = t + 1) begin
                wsel = w_word[(i*9 + t)*WBITS +: WBITS];
                xsel = s_axis_tdata[(t*CI + i)*IN_BITS +: IN_BITS];
                w_ext = {{(ACC_W-WBITS){wsel[WBITS-1]}}, wsel};
                x_ext = {{(ACC_W-IN_BITS){1'b0}}, xsel};
                tree[NP + i*9 + t] = w_ext * x_ext;
            end
        end
        for (j = NP - 1; j >= 1; j = j - 1) begin
            tree[j] = tree[2*j] + tree[2*j + 1];
        end
        acc_lane[p*ACC_W +: ACC_W] = tree[1];
    end
end

// stage 2 datapath: PE requant units
genvar gp;
generate
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_rq
        /* verilator lint_off UNUSEDSIGNAL */  // index < CO: upper bits always zero
        wire [31:0] ch_32 = s1_fold * PE + gp;
        /* verilator lint_on UNUSEDSIGNAL */
        wire [OW-1:0] ch = ch_32[OW-1:0];
        requant #(
            .ACC_W(ACC_W), .M_W(M_W), .B_W(B_W), .PROD_W(PROD_W), .SHIFT(SHIFT), .ABITS(ABITS)
        ) rq (
            .acc(s1_acc[gp*ACC_W +: ACC_W]),
            .m(m_mem[ch]),
            .b(b_mem[ch]),
            .y(y_lane[gp*ABITS +: ABITS])
        );
    end
endgenerate

endmodule
`default_nettype wire
