// conv_qgp: QGP 3x3 convolution (one tap + one sign per (out, in) channel pair) fused with
// per-channel requantization, on a stream of 3x3 windows.
//
//   acc[o] = sum_i (-1)^sign[o,i] * win[tap[o,i]][i]     (golden.model.conv_qgp_acc)
//   y[o]   = clamp((acc[o]*m[o] + b[o]) >>> SHIFT, 0, 2^ABITS-1)   (golden.model.requant)
//
// Parameters:
//   CI, CO    input / output channels (default 4, 4)
//   BITS      input activation bits, unsigned (default 4)
//   ACC_W     accumulator width, signed (bundle acc_bits) (default 10)
//   PE        output channels computed per cycle; CO % PE == 0; FOLD = CO/PE cycles per window
//   M_W, B_W, PROD_W, SHIFT   requant widths and shift (bundle requant m_bits, b_bits,
//             prod_bits, shift)
//   ABITS     output activation bits (default 4)
//   TS_FILE   $readmemh file, CO words of CI*5 bits, channel i at [i*5 +: 5] = {sign, tap[3:0]}
//   M_FILE, B_FILE  $readmemh files, CO words of M_W / B_W bits (two's complement)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[9*CI*BITS-1:0]  window (tap t, channel i at [(t*CI+i)*BITS +: BITS]), as from
//                                window3x3; s_axis_tvalid, s_axis_tready, s_axis_tlast
//   m_axis_tdata[CO*ABITS-1:0]   output pixel, channel o at [o*ABITS +: ABITS];
//                                m_axis_tvalid, m_axis_tready, m_axis_tlast (tlast passed on)
// Architecture:
//   fold counter f = 0..FOLD-1 reads ROM words f*PE .. f*PE+PE-1 (at FOLD == 1 lane o reads
//   word o at a constant index, so synthesis folds taps, signs, m and b to constants and the
//   muxes become wires); per (o, i) a 9:1 mux by tap
//   and a conditional negation, per output channel a balanced adder tree over i -> stage 1
//   register; PE requant units (PE multipliers) -> stage 2 register; the PE results of each
//   fold are collected and the whole CO-channel pixel is registered at the output (the fold
//   counter, registers and handshake are conv_pipe, shared with conv_dense). A window
//   is held for FOLD cycles (s_axis_tready only on the last fold). The pipeline stalls as a
//   whole when the output register is full and not taken (s_axis_tready depends
//   combinationally on m_axis_tready).
// Latency: the window accepted in cycle t (its last fold) is on the output in cycle t+3;
//   a stream of P windows offered every clock with the output always ready takes P*FOLD + 2
//   cycles from the first window offered (tvalid) to the last output beat; the first window is
//   accepted FOLD-1 cycles after it is offered.
`timescale 1ns / 1ps
`default_nettype none
module conv_qgp #(
    parameter CI = 4,
    parameter CO = 4,
    parameter BITS = 4,
    parameter ACC_W = 10,
    parameter PE = 4,
    parameter M_W = 16,
    parameter B_W = 32,
    parameter PROD_W = 48,
    parameter SHIFT = 16,
    parameter ABITS = 4,
    parameter TS_FILE = "",
    parameter M_FILE = "",
    parameter B_FILE = ""
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire [9*CI*BITS-1:0]   s_axis_tdata,
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
localparam NP = (CI > 1) ? (1 << $clog2(CI)) : 1;   // adder tree leaves (power of two)
// FOLD == 1 adder tree: terms of TW bits (signed, +-x), level k of the tree TW + k bits wide,
// LV levels, the exact sum SW bits wide
localparam TW = BITS + 1;
localparam LV = (NP > 1) ? $clog2(NP) : 0;
localparam SW = TW + LV;

// weight ROMs ts_mem, m_mem, b_mem: declared in the generate branches below

// fold counter, pipeline registers and output assembly (conv_pipe); the datapaths below
// compute acc_lane for fold and y_lane from s1_acc / s1_fold
/* verilator lint_off UNUSEDSIGNAL */  // FOLD == 1: the fold indices are always 0, unused
wire [FW-1:0]       fold, s1_fold;
/* verilator lint_on UNUSEDSIGNAL */
wire [PE*ACC_W-1:0] s1_acc;
wire [PE*ACC_W-1:0] acc_lane;  // stage 1 datapath result (combinational)
wire [PE*ABITS-1:0] y_lane;
conv_pipe #(.CO(CO), .PE(PE), .ACC_W(ACC_W), .ABITS(ABITS), .FW(FW)) pipe (
    .clk(clk), .rst(rst),
    .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast),
    .fold(fold), .acc_lane(acc_lane), .s1_acc(s1_acc), .s1_fold(s1_fold), .y_lane(y_lane),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

// stage 1 datapath: 9:1 mux + sign + adder tree per PE lane; stage 2 datapath: PE requant
// units. FOLD == 1 (PE == CO): every lane reads its own ROM word at a constant (genvar) index,
// so synthesis sees constant taps, signs, m and b (the 9:1 multiplexers fold to wires, the
// negations and multipliers to constants). FOLD > 1: the fold counter addresses the ROMs.
genvar gp, gi, gk, gn;
generate
    if (FOLD == 1) begin : g_const
        // weight ROMs, read at constant indices only; mem2reg makes yosys turn the words into
        // constants at elaboration, before any arithmetic is mapped
        (* mem2reg *) reg [CI*5-1:0] ts_mem [0:CO-1];
        (* mem2reg *) reg [M_W-1:0]  m_mem [0:CO-1];
        (* mem2reg *) reg [B_W-1:0]  b_mem [0:CO-1];
        initial begin
            $readmemh(TS_FILE, ts_mem);
            $readmemh(M_FILE, m_mem);
            $readmemh(B_FILE, b_mem);
        end
        for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
            wire [CI*5-1:0]      ts_word = ts_mem[gp];
            // balanced adder tree, level by level: level k holds NP >> k sums of TW + k bits
            // (level 0: the signed terms), each as wide as it needs to be
            for (gk = 0; gk <= LV; gk = gk + 1) begin : g_lv
                wire [(NP>>gk)*(TW+gk)-1:0] s;
                if (gk == 0) begin : g_terms
                    for (gi = 0; gi < NP; gi = gi + 1) begin : g_leaf
                        if (gi < CI) begin : g_term
                            // 9:1 multiplexer by a constant tap (above 8 never occurs: 0)
                            wire [3:0]      tap = ts_word[gi*5 +: 4];
                            wire [BITS-1:0] xsel = (tap < 4'd9)
                                ? s_axis_tdata[(tap*CI + gi)*BITS +: BITS] : {BITS{1'b0}};
                            wire [TW-1:0]   term = {1'b0, xsel};
                            assign s[gi*TW +: TW] = ts_word[gi*5 + 4] ? -term : term;
                        end else begin : g_pad
                            assign s[gi*TW +: TW] = {TW{1'b0}};
                        end
                    end
                end else begin : g_sums
                    for (gn = 0; gn < (NP >> gk); gn = gn + 1) begin : g_node
                        wire [TW+gk-2:0] l = g_lv[gk-1].s[(2*gn)*(TW+gk-1) +: TW+gk-1];
                        wire [TW+gk-2:0] r = g_lv[gk-1].s[(2*gn+1)*(TW+gk-1) +: TW+gk-1];
                        assign s[gn*(TW+gk) +: TW+gk] = {l[TW+gk-2], l} + {r[TW+gk-2], r};
                    end
                end
            end
            // the exact sum (SW bits, signed) to ACC_W bits: sign extension, or the low ACC_W
            // bits (the same result modulo 2^ACC_W as an ACC_W-bit accumulator)
            if (ACC_W > SW) begin : g_ext
                assign acc_lane[gp*ACC_W +: ACC_W] =
                    {{(ACC_W-SW){g_lv[LV].s[SW-1]}}, g_lv[LV].s};
            end else begin : g_trunc
                /* verilator lint_off UNUSEDSIGNAL */  // bits above ACC_W: dropped (mod 2^ACC_W)
                wire [SW-1:0] sum = g_lv[LV].s;
                /* verilator lint_on UNUSEDSIGNAL */
                assign acc_lane[gp*ACC_W +: ACC_W] = sum[ACC_W-1:0];
            end
            requant #(
                .ACC_W(ACC_W), .M_W(M_W), .B_W(B_W), .PROD_W(PROD_W), .SHIFT(SHIFT),
                .ABITS(ABITS)
            ) rq (
                .acc(s1_acc[gp*ACC_W +: ACC_W]),
                .m(m_mem[gp]),
                .b(b_mem[gp]),
                .y(y_lane[gp*ABITS +: ABITS])
            );
        end
    end else begin : g_fold
        // weight ROMs, addressed by the fold counter
        reg [CI*5-1:0] ts_mem [0:CO-1];
        reg [M_W-1:0]  m_mem [0:CO-1];
        reg [B_W-1:0]  b_mem [0:CO-1];
        initial begin
            $readmemh(TS_FILE, ts_mem);
            $readmemh(M_FILE, m_mem);
            $readmemh(B_FILE, b_mem);
        end
        reg [PE*ACC_W-1:0] acc_r;
        reg [ACC_W-1:0] tree [0:2*NP-1];   // one lane's adder tree (heap order), reused per lane
        reg [CI*5-1:0]  ts_word;
        reg [BITS-1:0]  xsel;
        reg [3:0]       tap;
        reg [ACC_W-1:0] term;
        reg [OW-1:0]    oidx;
        integer p, i, j;
        // 32-bit ROM index temporaries: only the low OW bits address the CO-word ROMs, the
        // upper bits are always zero (index < CO), so they are deliberately left unused.
        /* verilator lint_off UNUSEDSIGNAL */
        integer oi;
        /* verilator lint_on UNUSEDSIGNAL */

        always @* begin
            ts_word = {CI*5{1'b0}};
            xsel = {BITS{1'b0}};
            tap = 4'd0;
            term = {ACC_W{1'b0}};
            oidx = {OW{1'b0}};
            oi = 0;
            p = 0;
            i = 0;
            j = 0;
            acc_r = {PE*ACC_W{1'b0}};
            for (p = 0; p < PE; p = p + 1) begin
                oi = fold * PE + p;
                oidx = oi[OW-1:0];
                ts_word = ts_mem[oidx];
                for (j = 0; j < NP; j = j + 1) begin
                    tree[NP + j] = {ACC_W{1'b0}};
                end
                for (i = 0; i < CI; i = i + 1) begin
                    // 9:1 multiplexer by tap (a tap index above 8 never occurs: the bundle
                    // reader refuses it; it selects 0 here)
                    tap = ts_word[i*5 +: 4];
                    xsel = (tap < 4'd9) ? s_axis_tdata[(tap*CI + i)*BITS +: BITS]
                                        : {BITS{1'b0}};
                    term = {{(ACC_W-BITS){1'b0}}, xsel};
                    tree[NP + i] = ts_word[i*5 + 4] ? -term : term;
                end
                for (j = NP - 1; j >= 1; j = j - 1) begin
                    tree[j] = tree[2*j] + tree[2*j + 1];
                end
                acc_r[p*ACC_W +: ACC_W] = tree[1];
            end
        end
        assign acc_lane = acc_r;

        for (gp = 0; gp < PE; gp = gp + 1) begin : g_rq
            /* verilator lint_off UNUSEDSIGNAL */  // index < CO: upper bits always zero
            wire [31:0] ch_32 = s1_fold * PE + gp;
            /* verilator lint_on UNUSEDSIGNAL */
            wire [OW-1:0] ch = ch_32[OW-1:0];
            requant #(
                .ACC_W(ACC_W), .M_W(M_W), .B_W(B_W), .PROD_W(PROD_W), .SHIFT(SHIFT),
                .ABITS(ABITS)
            ) rq (
                .acc(s1_acc[gp*ACC_W +: ACC_W]),
                .m(m_mem[ch]),
                .b(b_mem[ch]),
                .y(y_lane[gp*ABITS +: ABITS])
            );
        end
    end
endgenerate

endmodule
`default_nettype wire
