// conv_dense: dense 3x3 convolution (signed WBITS-bit weights x unsigned IN_BITS-bit inputs)
// fused with per-channel requantization, on a stream of 3x3 windows (the network's first layer).
//
//   acc[o] = sum_{i,t} w[o,i,t] * win[t][i]                 (golden.model.conv_dense_acc)
//   y[o]   = clamp((acc[o]*m[o] + b[o]) >>> shift, 0, 2^ABITS-1)   (golden.model.requant),
//            computed as the number of thresholds passed (golden/thresholds.py, requant.v)
//
// Parameters:
//   CI, CO    input / output channels (default 1, 4)
//   IN_BITS   input bits, unsigned (default 8)
//   WBITS     weight bits, signed (default 8)
//   ACC_W     accumulator width, signed (bundle acc_bits) (default 20)
//   TH_W      threshold width, signed (golden.thresholds.threshold_bits(ACC_W)) (default 21)
//   PE        output channels computed per cycle; CO % PE == 0; FOLD = CO/PE cycles per window
//   ABITS     output activation bits (default 4)
//   TREE_REG  adder tree pipelining: a register every TREE_REG levels (adder_tree REG_EVERY;
//             0 = none) (default 0)
//   EN_COPIES copies of the pipeline enable (conv_pipe EN_COPIES) (default 1)
//   CREDIT    0: the pipeline stalls on the output; >= 2: it never stalls, its output goes
//             through a CREDIT-entry FIFO (conv_pipe CREDIT: one cycle more latency) (default 0)
//   RQ_REG    1: the requant's compares registered (requant REG; rtl/gen/params.py
//             requant_latency: one more cycle) (default 0)
//   WVEC      FOLD == 1: the weights as a constant, CO*CI*9*WBITS bits: channel o at
//             [o*CI*9*WBITS +: CI*9*WBITS], weight (i, t) within at [(i*9+t)*WBITS +: WBITS]
//   W_FILE    FOLD > 1: $readmemh file, FOLD words of PE*CI*9*WBITS bits: word f, lane p at
//             [p*CI*9*WBITS +: CI*9*WBITS] is channel f*PE + p (weights laid out as in WVEC)
//   TH_VEC    FOLD == 1: the requant words as a constant (as conv_qgp)
//   TH_FILE   FOLD > 1: $readmemh file, FOLD words of PE*(NT*TH_W+1) bits (as conv_qgp)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[9*CI*IN_BITS-1:0]  window (layout: window_unpack), as from window3x3;
//                                   s_axis_tvalid, s_axis_tready, s_axis_tlast
//   m_axis_tdata[CO*ABITS-1:0]      output pixel, channel o at [o*ABITS +: ABITS];
//                                   m_axis_tvalid, m_axis_tready, m_axis_tlast (tlast passed on)
// Architecture: as conv_qgp. FOLD == 1: no multiplier; every weight is a constant written in
//   canonical signed digits (CSD, at most WBITS digits in -1/0/+1, no two adjacent nonzero),
//   and each nonzero digit j contributes +-(x << j) as a leaf of the channel's adder tree over
//   NL = 9*CI*WBITS leaves (zero leaves cost nothing). FOLD > 1: no multiplier either: each of a
//   lane's 9*CI products w*x with w from the ROM is the sum of its WBITS partial products
//   w[j] ? x << j : 0 (the sign bit weighing -2^(WBITS-1)): ANDs and a small adder tree
//   (registered after its first level, PLAT); the lane's adder tree sums the NL = 9*CI products.
// Latency: TLAT = LREG + PLAT + ((TREE_REG > 0 && LV > 2) ? (LV - 2) / TREE_REG : 0), LREG = 1
//   when FOLD > 1 and TREE_REG > 0 (the leaves registered: adder_tree LEAF_REG), PLAT = 1 when
//   LREG and WBITS >= 3 (each product registered after the first level of its partial
//   products), with LV = clog2(NL) (rtl/gen/params.py: tree_latency); otherwise as conv_qgp:
//   the window accepted in cycle t (its last fold) is on the output in cycle t+3+TLAT+RQ_REG+C (C = 1 when
//   CREDIT > 0, else 0);
//   a stream of P windows offered every clock with the output always ready takes
//   P*FOLD + 2 + TLAT + RQ_REG + C cycles from the first window offered to the last output beat.
`timescale 1ns / 1ps
`default_nettype none
module conv_dense #(
    parameter CI = 1,
    parameter CO = 4,
    parameter IN_BITS = 8,
    parameter WBITS = 8,
    parameter ACC_W = 20,
    parameter TH_W = 21,
    parameter PE = 4,
    parameter ABITS = 4,
    parameter TREE_REG = 0,
    parameter EN_COPIES = 1,
    parameter CREDIT = 0,
    parameter RQ_REG = 0,
    parameter [CO*CI*9*WBITS-1:0] WVEC = 0,
    parameter W_FILE = "",
    parameter [CO*(((1<<ABITS)-1)*TH_W+1)-1:0] TH_VEC = 0,
    parameter TH_FILE = "",
    // synthesis memory style of the folded core's ROMs (g_rom), as conv_qgp's ROM_STYLE
    /* verilator lint_off UNUSEDPARAM */
    parameter ROM_STYLE = "auto"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire [9*CI*IN_BITS-1:0]   s_axis_tdata,
    input  wire                      s_axis_tvalid,
    output wire                      s_axis_tready,
    input  wire                      s_axis_tlast,
    output wire [CO*ABITS-1:0]       m_axis_tdata,
    output wire                      m_axis_tvalid,
    input  wire                      m_axis_tready,
    output wire                      m_axis_tlast
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (CI < 1) begin : g_check_ci_must_be_at_least_1
        CI_must_be_at_least_1 CI_must_be_at_least_1();
    end
    if (CO < 1) begin : g_check_co_must_be_at_least_1
        CO_must_be_at_least_1 CO_must_be_at_least_1();
    end
    if (IN_BITS < 1) begin : g_check_in_bits_must_be_at_least_1
        IN_BITS_must_be_at_least_1 IN_BITS_must_be_at_least_1();
    end
    if (WBITS < 1 || WBITS > 32) begin : g_check_wbits_must_be_1_to_32
        WBITS_must_be_1_to_32 WBITS_must_be_1_to_32();
    end
    if (ABITS < 1) begin : g_check_abits_must_be_at_least_1
        ABITS_must_be_at_least_1 ABITS_must_be_at_least_1();
    end
    if (PE < 1) begin : g_check_pe_must_be_at_least_1
        PE_must_be_at_least_1 PE_must_be_at_least_1();
    end
    if (PE >= 1 && CO % PE != 0) begin : g_check_pe_must_divide_co
        PE_must_divide_CO PE_must_divide_CO();
    end
    if (ACC_W < 1) begin : g_check_acc_w_must_be_at_least_1
        ACC_W_must_be_at_least_1 ACC_W_must_be_at_least_1();
    end
    if (TH_W < ACC_W + 1) begin : g_check_th_w_must_be_at_least_acc_w_plus_1
        TH_W_must_be_at_least_ACC_W_plus_1 TH_W_must_be_at_least_ACC_W_plus_1();
    end
    if (TREE_REG < 0) begin : g_check_tree_reg_must_not_be_negative
        TREE_REG_must_not_be_negative TREE_REG_must_not_be_negative();
    end
    if (PE >= 1 && CO / PE > 1 && W_FILE == "") begin : g_check_w_file_needed_when_fold_above_1
        W_FILE_needed_when_FOLD_above_1 W_FILE_needed_when_FOLD_above_1();
    end
    if (PE >= 1 && CO / PE > 1 && TH_FILE == "") begin : g_check_th_file_needed_when_fold_above_1
        TH_FILE_needed_when_FOLD_above_1 TH_FILE_needed_when_FOLD_above_1();
    end
endgenerate

localparam FOLD = CO / PE;
localparam FW = (FOLD > 1) ? $clog2(FOLD) : 1;
localparam NW = 9 * CI;                          // weights per output channel
localparam NT = (1 << ABITS) - 1;                // thresholds per channel
localparam QW = NT * TH_W + 1;                   // requant word per channel
localparam NL = (FOLD == 1) ? NW * WBITS : NW;   // adder tree leaves per channel
localparam LW = (FOLD == 1) ? IN_BITS + WBITS : IN_BITS + WBITS + 1;   // leaf width, signed
localparam PW = IN_BITS + WBITS;                // a partial product x*w[j]*2^j, signed
localparam LV = (NL > 1) ? $clog2(NL) : 0;
// folded: the leaves (ROM weights through the partial products and their adder trees) are
// registered first
localparam LREG = (FOLD > 1 && TREE_REG > 0) ? 1 : 0;
// folded: each product's partial-product tree (clog2(WBITS) levels) is registered after its
// first level when it has two or more (rtl/gen/params.py: product_latency)
localparam MLV = (WBITS > 1) ? $clog2(WBITS) : 0;
localparam PLAT = (LREG != 0 && MLV >= 2) ? 1 : 0;
localparam TLAT = LREG + PLAT + ((TREE_REG > 0 && LV > 2) ? (LV - 2) / TREE_REG : 0);

// digit j (-1, 0 or +1) of the canonical signed digit (non-adjacent form) of w
function integer csd_digit;
    input integer w;
    input integer j;
    integer v, k, d, r;
    begin
        v = w;
        csd_digit = 0;
        for (k = 0; k <= j; k = k + 1) begin
            r = ((v % 4) + 4) % 4;
            d = (r == 1) ? 1 : ((r == 3) ? -1 : 0);
            if (k == j) csd_digit = d;
            v = (v - d) / 2;
        end
    end
endfunction

// fold counter, pipeline registers and output assembly (conv_pipe)
/* verilator lint_off UNUSEDSIGNAL */  // the ROMs' addresses; FOLD == 1: no ROM
wire [FW-1:0]       fold, s1_fold, th_addr, rom_addr;
wire                rom_ce, th_ce;
wire [EN_COPIES-1:0] rom_load;
/* verilator lint_on UNUSEDSIGNAL */
/* verilator lint_off UNUSEDSIGNAL */  // the master enable: the copies drive this core
wire                en;
/* verilator lint_on UNUSEDSIGNAL */
wire [EN_COPIES-1:0] en_rep;
wire [PE*ACC_W-1:0] s1_acc;
wire [PE*ACC_W-1:0] acc_lane;
wire [PE*ABITS-1:0] y_lane;
conv_pipe #(.CO(CO), .PE(PE), .ACC_W(ACC_W), .ABITS(ABITS), .DLAT(TLAT), .YLAT(RQ_REG), .FW(FW),
            .PREFETCH((FOLD > 1) ? 1 : 0), .EN_COPIES(EN_COPIES), .CREDIT(CREDIT)) pipe (
    .clk(clk), .rst(rst),
    .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast),
    .fold(fold), .en(en), .en_rep(en_rep), .acc_lane(acc_lane), .s1_acc(s1_acc), .s1_fold(s1_fold),
    .th_addr(th_addr), .th_ce(th_ce), .rom_addr(rom_addr), .rom_ce(rom_ce), .rom_load(rom_load),
    .y_lane(y_lane),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

// thresholds of the fold in stage 1; leaves of every lane for the window and fold in stage 0
wire [PE*QW-1:0] th_word;
wire [PE*NL*LW-1:0] leaf;
// the window, channel-major: input (i, t) at [(i*9 + t)*IN_BITS +: IN_BITS]
wire [9*CI*IN_BITS-1:0] xw;
window_unpack #(.CI(CI), .BITS(IN_BITS)) unpack (.win(s_axis_tdata), .x(xw));
genvar gp, gi, gt, gj;
generate
    if (FOLD == 1) begin : g_const
        assign th_word = TH_VEC;
        for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
            for (gi = 0; gi < CI; gi = gi + 1) begin : g_ch
                for (gt = 0; gt < 9; gt = gt + 1) begin : g_tap
                    localparam [WBITS-1:0] WB = WVEC[(gp*NW + gi*9 + gt)*WBITS +: WBITS];
                    localparam integer WI = {{(32-WBITS){WB[WBITS-1]}}, WB};   // WBITS <= 32
                    wire [IN_BITS-1:0] x = xw[(gi*9 + gt)*IN_BITS +: IN_BITS];
                    for (gj = 0; gj < WBITS; gj = gj + 1) begin : g_digit
                        localparam integer D = csd_digit(WI, gj);
                        localparam integer LI = ((gp*NW + gi*9 + gt)*WBITS + gj) * LW;
                        /* verilator lint_off UNUSEDSIGNAL */  // a zero digit: unused
                        wire [LW-1:0] xs = {{(LW-IN_BITS){1'b0}}, x} << gj;
                        /* verilator lint_on UNUSEDSIGNAL */
                        if (D > 0) begin : g_pos
                            assign leaf[LI +: LW] = xs;
                        end else if (D < 0) begin : g_neg
                            assign leaf[LI +: LW] = -xs;
                        end else begin : g_zero
                            assign leaf[LI +: LW] = {LW{1'b0}};
                        end
                    end
                end
            end
        end
    end else begin : g_rom
        // ROMs with a synchronous read (rom_sync; block RAM where synthesis finds it cheaper),
        // each through a second register, so that no block RAM output drives logic: the
        // weight word prefetched (conv_pipe PREFETCH: rom_addr is the next fold, rom_load
        // moves it in when the fold advances), the threshold word read one stage early
        // (conv_pipe th_addr, loaded with en; TLAT = 0: through one register)
        wire [PE*NW*WBITS-1:0] w_word;
        rom_sync #(.W(PE*NW*WBITS), .DEPTH(FOLD), .AW(FW), .FILE(W_FILE), .STYLE(ROM_STYLE),
                   .OUTREG(1), .LOADS(EN_COPIES)) w_rom (
            .clk(clk), .addr(rom_addr), .ce(rom_ce), .load(rom_load), .q(w_word)
        );
        rom_sync #(.W(PE*QW), .DEPTH(FOLD), .AW(FW), .FILE(TH_FILE), .STYLE(ROM_STYLE),
                   .OUTREG((TLAT > 0) ? 1 : 0), .LOADS(EN_COPIES)) th_rom (
            .clk(clk), .addr(th_addr), .ce(th_ce), .load(en_rep), .q(th_word)
        );
        // products without multipliers: w*x = sum_j w[j]*(x << j), the sign bit j = WBITS-1
        // weighing -2^j (two's complement): one AND per weight bit and an adder tree per product;
        // x << j and -(x << (WBITS-1)) are shared by the lanes
        for (gi = 0; gi < CI; gi = gi + 1) begin : g_ch
            for (gt = 0; gt < 9; gt = gt + 1) begin : g_tap
                wire [IN_BITS-1:0] x = xw[(gi*9 + gt)*IN_BITS +: IN_BITS];
                wire [PW-1:0] xs = {{(PW-IN_BITS){1'b0}}, x};
                wire [PW-1:0] xn = -(xs << (WBITS-1));
                for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
                    localparam integer K = gp*NW + gi*9 + gt;
                    wire [WBITS-1:0] w = w_word[K*WBITS +: WBITS];
                    wire [WBITS*PW-1:0] pp;
                    for (gj = 0; gj < WBITS; gj = gj + 1) begin : g_bit
                        if (gj == WBITS-1) begin : g_sign
                            assign pp[gj*PW +: PW] = xn & {PW{w[gj]}};
                        end else begin : g_mag
                            assign pp[gj*PW +: PW] = (xs << gj) & {PW{w[gj]}};
                        end
                    end
                    adder_tree #(.N(WBITS), .IW(PW), .OW(LW), .REG_EVERY((PLAT != 0) ? MLV - 1 : 0),
                                 .REG_FROM(1), .EN_W(EN_COPIES)) mul (
                        .clk(clk), .en(en_rep), .leaf(pp), .sum(leaf[K*LW +: LW])
                    );
                end
            end
        end
    end
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_tree
        adder_tree #(.N(NL), .IW(LW), .OW(ACC_W), .REG_EVERY(TREE_REG), .LEAF_REG(LREG),
                     .EN_W(EN_COPIES)) tree (
            .clk(clk), .en(en_rep), .leaf(leaf[gp*NL*LW +: NL*LW]), .sum(acc_lane[gp*ACC_W +: ACC_W])
        );
        requant #(.ACC_W(ACC_W), .TH_W(TH_W), .ABITS(ABITS), .REG(RQ_REG)) rq (
            .clk(clk), .en(en_rep[gp % EN_COPIES]),
            .acc(s1_acc[gp*ACC_W +: ACC_W]),
            .th(th_word[gp*QW +: QW]),
            .y(y_lane[gp*ABITS +: ABITS])
        );
    end
endgenerate

endmodule
`default_nettype wire
