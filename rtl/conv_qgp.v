// conv_qgp: QGP 3x3 convolution (one tap + one sign per (out, in) channel pair) fused with
// per-channel requantization, on a stream of 3x3 windows.
//
//   acc[o] = sum_i (-1)^sign[o,i] * win[tap[o,i]][i]     (golden.model.conv_qgp_acc)
//   y[o]   = clamp((acc[o]*m[o] + b[o]) >>> shift, 0, 2^ABITS-1)   (golden.model.requant),
//            computed as the number of thresholds passed (golden/thresholds.py, requant.v)
// The adder trees sum acc[o] - nneg[o] (nneg = number of negative signs of channel o: the sign
// is a ones' complement, qgp_lane) in SW = ACC_W + 1 bits, and the thresholds are golden's
// minus nneg[o] (rtl/gen/params.py), so every comparison is the same as golden's on acc[o].
//
// Parameters:
//   CI, CO    input / output channels (default 4, 4)
//   BITS      input activation bits, unsigned (default 4)
//   ACC_W     accumulator width, signed (bundle acc_bits) (default 10)
//   TH_W      threshold width, signed (golden.thresholds.threshold_bits(ACC_W) + 1 = ACC_W + 2:
//             a threshold minus nneg) (default 12)
//   PE        output channels computed per cycle; CO % PE == 0; FOLD = CO/PE cycles per window
//   ABITS     output activation bits (default 4)
//   TREE_REG  adder tree pipelining: a register every TREE_REG levels (adder_tree REG_EVERY;
//             0 = none) (default 0)
//   TS_VEC    FOLD == 1: the taps and signs as a constant, CO*CI*5 bits: channel o at
//             [o*CI*5 +: CI*5], its input channel i at [i*5 +: 5] = {sign, tap}
//   TS_FILE   FOLD > 1: $readmemh file, FOLD words of PE*CI*5 bits: word f, lane p at
//             [p*CI*5 +: CI*5] is output channel o = f*PE + p (laid out as in TS_VEC)
//   TH_VEC    FOLD == 1: the requant words as a constant, CO*(NT*TH_W+1) bits: channel o at
//             [o*(NT*TH_W+1) +: NT*TH_W+1] (the word below)
//   RING      1 (FOLD > 1): the window arrives as column beats (window3x3 COLS = 1) and is kept
//             in per-channel tap memories, one per lane (tap_ring), that the taps address:
//             no window register and no multiplexer; TS_FILE's taps are then {kx, ky} (2 + 2
//             bits, tap_ring). FOLD >= 3 keeps one window per FOLD cycles (a column takes 3
//             clocks to write) (default 0)
//   TH_FILE   FOLD > 1: $readmemh file, FOLD words of PE*(NT*TH_W+1) bits (NT = 2^ABITS - 1): word f,
//             lane p at [p*(NT*TH_W+1) +: NT*TH_W+1] = channel f*PE + p's requant word
//             {neg, T[NT], ..., T[1]} (requant.v)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[9*CI*BITS-1:0]  window (layout: window_unpack), as from window3x3;
//                                s_axis_tvalid, s_axis_tready, s_axis_tlast
//                                RING: [3*CI*BITS+5:0] column beats (window3x3 COLS = 1)
//   m_axis_tdata[CO*ABITS-1:0]   output pixel, channel o at [o*ABITS +: ABITS];
//                                m_axis_tvalid, m_axis_tready, m_axis_tlast (tlast passed on)
// Architecture:
//   fold counter f = 0..FOLD-1 reads ROM word f; at FOLD == 1 the taps and signs are the
//   constant TS_VEC (qgp_lane CONST: the multiplexers are wires, the signs inversions, for
//   synthesis and simulators alike) and the one threshold word is read at a constant index
//   (the threshold compares become compares with constants);
//   per PE lane a qgp_lane (9:1 mux + sign per input channel) and an adder_tree over the CI
//   terms (TLAT = adder_tree LAT register stages) -> stage 1 register; PE requant threshold
//   units -> stage 2 register; the PE results of each fold are collected and the whole
//   CO-channel pixel is registered at the output (conv_pipe, shared with conv_dense). A window
//   is held for FOLD cycles (s_axis_tready only on the last fold). The pipeline stalls as a
//   whole when the output register is full and not taken (s_axis_tready depends
//   combinationally on m_axis_tready).
//   RING: a column beat with need is written one row per clock into the slot after the last
//   column's and taken (s_axis_tready) with its third row; it may start when no kept window uses
//   that slot inside the frame (a window uses its base slot - 2 unless padl, - 1, and the base
//   slot unless padr), so a window being computed never loses a column; a beat without need is
//   taken at once and not written. A win column appends its window (base slot = the slot after
//   the last column written, padl, padr, tlast) to a queue of two that conv_pipe takes as its
//   window stream; a win beat waits while the queue is full.
// Latency: TLAT = LREG + ((TREE_REG > 0 && LV > 2) ? (LV - 2) / TREE_REG : 0), LREG = 1 when
//   FOLD > 1 and TREE_REG > 0 (the leaves registered: adder_tree LEAF_REG), with LV = clog2(CI)
//   (rtl/gen/params.py: tree_latency). The window accepted in cycle t (its last fold) is on the
//   output in cycle t+3+TLAT; a stream of P windows offered every clock with the output always
//   ready takes P*FOLD + 2 + TLAT cycles from the first window offered (tvalid) to the last
//   output beat; the first window is accepted FOLD-1 cycles after it is offered.
//   RING: a window's computation starts the clock after its column's third row (3 clocks after
//   the column is offered when nothing waits), see conv_layer for the layer's latency.
`timescale 1ns / 1ps
`default_nettype none
module conv_qgp #(
    parameter CI = 4,
    parameter CO = 4,
    parameter BITS = 4,
    parameter ACC_W = 10,
    parameter TH_W = 12,
    parameter PE = 4,
    parameter ABITS = 4,
    parameter TREE_REG = 0,
    parameter [CO*CI*5-1:0] TS_VEC = 0,
    parameter TS_FILE = "",
    parameter [CO*(((1<<ABITS)-1)*TH_W+1)-1:0] TH_VEC = 0,
    parameter TH_FILE = "",
    parameter RING = 0,
    // synthesis memory style of the folded core's ROMs (g_rom): "auto" (the tool decides),
    // "block", "distributed"; written as their ram_style attribute (read by synthesis only)
    /* verilator lint_off UNUSEDPARAM */
    parameter ROM_STYLE = "auto"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire [((RING != 0) ? 3*CI*BITS + 6 : 9*CI*BITS)-1:0] s_axis_tdata,
    input  wire                   s_axis_tvalid,
    output wire                   s_axis_tready,
    input  wire                   s_axis_tlast,
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
    if (RING != 0 && PE >= 1 && CO / PE < 2) begin : g_check_ring_needs_fold_at_least_2
        RING_needs_FOLD_at_least_2 RING_needs_FOLD_at_least_2();
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
wire                rom_load;
/* verilator lint_on UNUSEDSIGNAL */
wire                en;
wire [PE*SW-1:0]    s1_acc;
wire [PE*SW-1:0]    acc_lane;
wire [PE*ABITS-1:0] y_lane;
wire                win_tvalid, win_tready, win_tlast;   // the window stream conv_pipe takes
conv_pipe #(.CO(CO), .PE(PE), .ACC_W(SW), .ABITS(ABITS), .DLAT(TLAT), .FW(FW),
            .PREFETCH((FOLD > 1) ? 1 : 0)) pipe (
    .clk(clk), .rst(rst),
    .s_axis_tvalid(win_tvalid), .s_axis_tready(win_tready), .s_axis_tlast(win_tlast),
    .fold(fold), .en(en), .acc_lane(acc_lane), .s1_acc(s1_acc), .s1_fold(s1_fold),
    .th_addr(th_addr), .rom_addr(rom_addr), .rom_load(rom_load),
    .y_lane(y_lane),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

// the ROM words of this fold (stage 0: taps and signs) and of the fold in stage 1 (thresholds)
wire [PE*CI*5-1:0] ts_word;
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
                   .OUTREG(1)) ts_rom (
            .clk(clk), .addr(rom_addr), .load(rom_load), .q(ts_word)
        );
        rom_sync #(.W(PE*QW), .DEPTH(FOLD), .AW(FW), .FILE(TH_FILE), .STYLE(ROM_STYLE),
                   .OUTREG((TLAT > 0) ? 1 : 0)) th_rom (
            .clk(clk), .addr(th_addr), .load(en), .q(th_word)
        );
    end
endgenerate

// RING: a kept window (valid v, base slot b, padl pl, padr pr) reads slot s inside the frame:
// its base slot - 2 unless padl, - 1, and the base slot unless padr
function uses;
    input [1:0] s;
    input       v;
    input [1:0] b;
    input       pl, pr;
    begin
        uses = v && (s == b - 2'd1 || (s == b - 2'd2 && !pl) || (s == b && !pr));
    end
endfunction

// the signed terms of every lane (lane p, input channel i at [(p*CI + i)*TW +: TW])
wire [PE*CI*TW-1:0] term;
genvar gp;
generate
    if (RING != 0) begin : g_ring
        // column writes and the queue of kept windows (cur, then nxt)
        localparam PB = CI*BITS;
        reg [1:0] wph_reg = 2'd0;                 // row of the column beat being written
        reg [1:0] ws_reg = 2'd0;                  // slot of the last column written
        reg       cur_v_reg = 1'b0, nxt_v_reg = 1'b0;
        reg [1:0] cur_base_reg = 2'd0, nxt_base_reg = 2'd0;
        reg       cur_pl_reg = 1'b0, cur_pr_reg = 1'b0, cur_last_reg = 1'b0;
        reg       nxt_pl_reg = 1'b0, nxt_pr_reg = 1'b0, nxt_last_reg = 1'b0;
        wire [5:0] fl = s_axis_tdata[3*PB +: 6];  // {need, zbot, ztop, padr, padl, win}
        wire [1:0] slot = ws_reg + 2'd1;          // the slot a written column goes to
        // a kept window uses slot s inside the frame
        wire cur_uses = uses(slot, cur_v_reg, cur_base_reg, cur_pl_reg, cur_pr_reg);
        wire nxt_uses = uses(slot, nxt_v_reg, nxt_base_reg, nxt_pl_reg, nxt_pr_reg);
        wire room = !(fl[0] && nxt_v_reg);        // a win beat's window has a place in the queue
        wire first = (wph_reg == 2'd0) && s_axis_tvalid && room;
        wire skip = first && !fl[5];
        wire start_ok = !cur_uses && !nxt_uses;
        wire we = (wph_reg != 2'd0) || (first && fl[5] && start_ok);
        wire col_done = skip || (we && (wph_reg == 2'd2));
        wire take = cur_v_reg && win_tready;
        wire add = col_done && fl[0];
        wire to_cur = add && !(take ? nxt_v_reg : cur_v_reg);
        wire zero = (wph_reg == 2'd0 && fl[3]) || (wph_reg == 2'd2 && fl[4]);
        wire [PB-1:0] wdata = zero ? {PB{1'b0}} : s_axis_tdata[wph_reg*PB +: PB];

        assign s_axis_tready = skip || (wph_reg == 2'd2);
        assign win_tvalid = cur_v_reg;
        assign win_tlast = cur_last_reg;

        always @(posedge clk) begin
            if (we) begin
                wph_reg <= (wph_reg == 2'd2) ? 2'd0 : wph_reg + 2'd1;
            end
            if (we && (wph_reg == 2'd2)) begin
                ws_reg <= slot;
            end
            if (take) begin
                cur_v_reg <= nxt_v_reg;
                cur_base_reg <= nxt_base_reg;
                cur_pl_reg <= nxt_pl_reg;
                cur_pr_reg <= nxt_pr_reg;
                cur_last_reg <= nxt_last_reg;
                nxt_v_reg <= 1'b0;
            end
            if (to_cur) begin
                cur_v_reg <= 1'b1;
                cur_base_reg <= slot;
                cur_pl_reg <= fl[1];
                cur_pr_reg <= fl[2];
                cur_last_reg <= s_axis_tlast;
            end else if (add) begin
                nxt_v_reg <= 1'b1;
                nxt_base_reg <= slot;
                nxt_pl_reg <= fl[1];
                nxt_pr_reg <= fl[2];
                nxt_last_reg <= s_axis_tlast;
            end
            if (rst) begin
                wph_reg <= 2'd0;
                cur_v_reg <= 1'b0;
                nxt_v_reg <= 1'b0;
            end
        end

        for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
            tap_ring #(.CI(CI), .BITS(BITS)) lane (
                .clk(clk), .we(we), .wslot(slot), .wrow(wph_reg), .wdata(wdata),
                .base(cur_base_reg), .padl(cur_pl_reg), .padr(cur_pr_reg),
                .ts(ts_word[gp*CI*5 +: CI*5]), .term(term[gp*CI*TW +: CI*TW])
            );
        end
    end else begin : g_win
        // the window, channel-major
        wire [9*CI*BITS-1:0] x;
        window_unpack #(.CI(CI), .BITS(BITS)) unpack (.win(s_axis_tdata), .x(x));
        assign win_tvalid = s_axis_tvalid;
        assign s_axis_tready = win_tready;
        assign win_tlast = s_axis_tlast;

        for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
            qgp_lane #(.CI(CI), .BITS(BITS), .CONST(FOLD == 1 ? 1 : 0),
                       .TS(TS_VEC[gp*CI*5 +: CI*5])) lane (
                .x(x), .ts(ts_word[gp*CI*5 +: CI*5]), .term(term[gp*CI*TW +: CI*TW])
            );
        end
    end
    // per lane the adder tree over its CI terms, then requant of the stage-1 sums
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_tree
        adder_tree #(.N(CI), .IW(TW), .OW(SW), .REG_EVERY(TREE_REG), .LEAF_REG(LREG)) tree (
            .clk(clk), .en(en), .leaf(term[gp*CI*TW +: CI*TW]), .sum(acc_lane[gp*SW +: SW])
        );
    end
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_rq
        requant #(.ACC_W(SW), .TH_W(TH_W), .ABITS(ABITS)) rq (
            .acc(s1_acc[gp*SW +: SW]),
            .th(th_word[gp*QW +: QW]),
            .y(y_lane[gp*ABITS +: ABITS])
        );
    end
endgenerate

endmodule
`default_nettype wire
