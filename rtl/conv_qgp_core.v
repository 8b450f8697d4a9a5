// conv_qgp_core: what the two QGP conv cores share (not for direct use): conv_pipe (fold counter,
// pipeline, output assembly), the tap / sign ROM and the threshold ROM, one adder tree and one
// requant per PE lane. The front end around it (conv_qgp: a window register and qgp_lane
// multiplexers; conv_qgp_ring: per-lane tap memories) turns the fold's tap / sign word into the
// lanes' signed terms.
//
// Parameters: CI, CO, BITS, ACC_W, TH_W, PE, ABITS, TREE_REG, EN_COPIES, CREDIT, RQ_REG, TS_VEC, TS_FILE,
//   TH_VEC, TH_FILE,
//   ROM_STYLE as conv_qgp (TS_FILE's tap fields are the front end's: conv_qgp_ring's are {kx, ky})
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tvalid, s_axis_tready, s_axis_tlast   the window stream (the data is the front end's)
//   ts[PE*CI*5-1:0]     out: the tap / sign word of the fold on s_axis (lane p at [p*CI*5 +: CI*5])
//   term[PE*CI*(BITS+1)-1:0]  in: the lanes' signed terms for that fold (lane p, input channel i
//                       at [(p*CI + i)*(BITS+1) +: BITS+1])
//   m_axis_tdata[CO*ABITS-1:0], m_axis_tvalid, m_axis_tready, m_axis_tlast   output pixels
// Latency: as conv_qgp (TLAT below; rtl/gen/params.py tree_latency).
`timescale 1ns / 1ps
`default_nettype none
module conv_qgp_core #(
    parameter CI = 4,
    parameter CO = 4,
    parameter BITS = 4,
    parameter ACC_W = 10,
    parameter TH_W = 12,
    parameter PE = 4,
    parameter ABITS = 4,
    parameter TREE_REG = 0,
    parameter EN_COPIES = 1,
    parameter CREDIT = 0,
    parameter RQ_REG = 0,
    parameter [CO*CI*5-1:0] TS_VEC = 0,
    parameter TS_FILE = "",
    parameter [CO*(((1<<ABITS)-1)*TH_W+1)-1:0] TH_VEC = 0,
    parameter TH_FILE = "",
    /* verilator lint_off UNUSEDPARAM */
    parameter ROM_STYLE = "auto"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   s_axis_tvalid,
    output wire                   s_axis_tready,
    input  wire                   s_axis_tlast,
    output wire [PE*CI*5-1:0]     ts,
    input  wire [PE*CI*(BITS+1)-1:0] term,
    output wire [CO*ABITS-1:0]    m_axis_tdata,
    output wire                   m_axis_tvalid,
    input  wire                   m_axis_tready,
    output wire                   m_axis_tlast
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
    if (BITS < 1) begin : g_check_bits_must_be_at_least_1
        BITS_must_be_at_least_1 BITS_must_be_at_least_1();
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
    if (ACC_W < BITS + 1) begin : g_check_acc_w_must_be_at_least_bits_plus_1
        ACC_W_must_be_at_least_BITS_plus_1 ACC_W_must_be_at_least_BITS_plus_1();
    end
    if (TH_W < ACC_W + 2) begin : g_check_th_w_must_be_at_least_acc_w_plus_2
        TH_W_must_be_at_least_ACC_W_plus_2 TH_W_must_be_at_least_ACC_W_plus_2();
    end
    if (TREE_REG < 0) begin : g_check_tree_reg_must_not_be_negative
        TREE_REG_must_not_be_negative TREE_REG_must_not_be_negative();
    end
    if (PE >= 1 && CO / PE > 1 && TS_FILE == "") begin : g_check_ts_file_needed_when_fold_above_1
        TS_FILE_needed_when_FOLD_above_1 TS_FILE_needed_when_FOLD_above_1();
    end
    if (PE >= 1 && CO / PE > 1 && TH_FILE == "") begin : g_check_th_file_needed_when_fold_above_1
        TH_FILE_needed_when_FOLD_above_1 TH_FILE_needed_when_FOLD_above_1();
    end
endgenerate

localparam FOLD = CO / PE;
localparam FW = (FOLD > 1) ? $clog2(FOLD) : 1;
localparam TW = BITS + 1;                        // a signed term x or ~x
localparam SW = ACC_W + 1;                       // acc - nneg
localparam NT = (1 << ABITS) - 1;                // thresholds per channel
localparam QW = NT * TH_W + 1;                   // requant word per channel
localparam LV = (CI > 1) ? $clog2(CI) : 0;       // adder tree levels
// folded: the leaves (a ROM word through the multiplexers / multipliers) are registered first
localparam LREG = (FOLD > 1 && TREE_REG > 0) ? 1 : 0;
localparam TLAT = LREG + ((TREE_REG > 0 && LV > 2) ? (LV - 2) / TREE_REG : 0);

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
wire [PE*SW-1:0]    s1_acc;
wire [PE*SW-1:0]    acc_lane;
wire [PE*ABITS-1:0] y_lane;
conv_pipe #(.CO(CO), .PE(PE), .ACC_W(SW), .ABITS(ABITS), .DLAT(TLAT), .YLAT(RQ_REG), .FW(FW),
            .PREFETCH((FOLD > 1) ? 1 : 0), .EN_COPIES(EN_COPIES), .CREDIT(CREDIT)) pipe (
    .clk(clk), .rst(rst),
    .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast),
    .fold(fold), .en(en), .en_rep(en_rep), .acc_lane(acc_lane), .s1_acc(s1_acc), .s1_fold(s1_fold),
    .th_addr(th_addr), .th_ce(th_ce), .rom_addr(rom_addr), .rom_ce(rom_ce), .rom_load(rom_load),
    .y_lane(y_lane),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

// the ROM words of this fold (stage 0: taps and signs) and of the fold in stage 1 (thresholds)
wire [PE*CI*5-1:0] ts_word;
assign ts = ts_word;
wire [PE*QW-1:0]   th_word;
generate
    if (FOLD == 1) begin : g_const
        // constants in the source (no memory): wires, inversions and compares with constants
        assign ts_word = TS_VEC;
        assign th_word = TH_VEC;
    end else begin : g_rom
        // ROMs with a synchronous read (rom_sync; block RAM where synthesis finds it cheaper),
        // each through a second register, so that no block RAM output drives logic: the
        // tap / sign word prefetched (conv_pipe PREFETCH: rom_addr is the next fold, rom_load
        // moves it in when the fold advances), the threshold word read one stage early
        // (conv_pipe th_addr, loaded with en; TLAT = 0: through one register)
        rom_sync #(.W(PE*CI*5), .DEPTH(FOLD), .AW(FW), .FILE(TS_FILE), .STYLE(ROM_STYLE),
                   .OUTREG(1), .LOADS(EN_COPIES)) ts_rom (
            .clk(clk), .addr(rom_addr), .ce(rom_ce), .load(rom_load), .q(ts_word)
        );
        rom_sync #(.W(PE*QW), .DEPTH(FOLD), .AW(FW), .FILE(TH_FILE), .STYLE(ROM_STYLE),
                   .OUTREG((TLAT > 0) ? 1 : 0), .LOADS(EN_COPIES)) th_rom (
            .clk(clk), .addr(th_addr), .ce(th_ce), .load(en_rep), .q(th_word)
        );
    end
endgenerate

genvar gp;
generate
    // per lane the adder tree over its CI terms, then requant of the stage-1 sums
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_tree
        adder_tree #(.N(CI), .IW(TW), .OW(SW), .REG_EVERY(TREE_REG), .LEAF_REG(LREG),
                     .EN_W(EN_COPIES)) tree (
            .clk(clk), .en(en_rep), .leaf(term[gp*CI*TW +: CI*TW]), .sum(acc_lane[gp*SW +: SW])
        );
    end
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_rq
        requant #(.ACC_W(SW), .TH_W(TH_W), .ABITS(ABITS), .REG(RQ_REG)) rq (
            .clk(clk), .en(en_rep[gp % EN_COPIES]),
            .acc(s1_acc[gp*SW +: SW]),
            .th(th_word[gp*QW +: QW]),
            .y(y_lane[gp*ABITS +: ABITS])
        );
    end
endgenerate

endmodule
`default_nettype wire
