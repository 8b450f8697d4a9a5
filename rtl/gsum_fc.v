// gsum_fc: network head. Global sum per channel over the frame, then a dense layer and argmax.
//
//   g[c]     = sum over the frame's pixels of x[c]              (GSUM_W bits, unsigned)
//   logit[k] = bias[k] + sum_c w[k,c] * g[c]                    (LOGIT_W bits, signed)
//   class    = argmax_k logit[k], ties -> lowest index          (golden.model.gsum_fc / predict)
//
// Parameters:
//   CI        input channels (default 8)
//   K         classes, >= 2 (default 10)
//   BITS      input activation bits, unsigned (default 4)
//   GSUM_W    global-sum width, unsigned (bundle gsum_bits) (default 12)
//   WBITS     weight bits, signed (default 8)
//   BIAS_W    bias bits, signed (bundle bias_bits) (default 32)
//   LOGIT_W   logit bits, signed (bundle logit_bits) (default 32); LOGIT_W > GSUM_W
//   CLASS_W   bits of the class index (default $clog2(K))
//   W_FILE    $readmemh file, CI words of K*WBITS bits: word c is column c of the weights,
//             class k at [k*WBITS +: WBITS] (one word per MAC cycle)
//   B_FILE    $readmemh file, K words of BIAS_W bits
//   SER       1: channel-serial head for a slow stream (a pixel at most every CI clocks): no
//             global sums at all, the logits accumulate w[k,c] * x[c] one channel per clock
//             (default 0)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[CI*BITS-1:0], s_axis_tvalid, s_axis_tready, s_axis_tlast   pixels of a frame
//   m_axis_tdata[K*LOGIT_W+CLASS_W-1:0] = {logit[K-1], ..., logit[0], class}, one beat per frame,
//   m_axis_tvalid, m_axis_tready, m_axis_tlast (always 1 with tvalid)
// Architecture:
//   the sums g accumulate while the previous frame's FC runs (double buffer): the tlast beat
//   copies g (including itself) to a hold register and clears g. The beat reaches the sums
//   through HEAD_FLAGS = 1 register stage (rtl/gen/plan.py) holding one copy of the beat's
//   accumulate / load flags per channel, so that no single flag drives the CI*GSUM_W sum and
//   hold bits.
//   Both modes take their input through a 2-entry skid buffer (axis_skid, HEAD_SKID = 1 clock):
//   s_axis_tready is a register, no combinational path from the head back into the layer
//   before it. The FC uses K MACs over CI
//   cycles (word c of the weight ROM per cycle: a synchronous read addressed one cycle ahead,
//   block RAM or a LUT ROM, no CI:1 multiplexers), then a sequential argmax over K-1 cycles;
//   the result is held in the output register until taken. s_axis_tready is low only on a
//   tlast beat while the previous frame is still being computed or not yet taken (at the skid's
//   output; the skid takes up to two beats more).
//   SER = 1: a pixel beat is held for CI clocks, channel c in clock c (the weight column c read
//   as above, x[c] selected from the beat), and taken with its last channel: logit[k] =
//   (first channel of a frame ? bias[k] : logit[k]) + w[k,c] * x[c] (the same integers as the
//   sums: sum_p sum_c w[k,c] x_p[c] = sum_c w[k,c] g[c], every partial sum within the declared
//   widths). x[c] and the column are registered for the MAC (the CI:1 selection of x is a clock
//   of its own). The tlast beat's last MAC starts the argmax (the input is held from that
//   channel on), then the output register; the next frame accumulates meanwhile, its tlast
//   waits for the output taken.
//   Every MAC is two clocks, each from registers: the products w[k,c] * operand into a register
//   (MULT18X18D), then the accumulation. The argmax runs K clocks over the logits rotated by
//   one each clock (logit[k] is at the bottom in clock k: no K:1 multiplexer), from the most
//   negative value; after K rotations the logits are in place again for the output.
// Latency: the output beat is valid CI + K + 2 + HEAD_SKID + HEAD_FLAGS cycles after the tlast
//   beat is accepted; a frame with input every clock takes H*W + CI + K + 1 + HEAD_SKID +
//   HEAD_FLAGS cycles from the first input beat to the output beat (output cycle - first input
//   cycle). SER = 1: H*W*CI + K + 2 + HEAD_SKID cycles from the first beat accepted at the port
//   (the head takes it from the skid's output with its last channel, CI-1 cycles after it gets
//   there) to the output beat, H*W*CI + K + 2 cycles per frame in a stream (rtl/gen/params.py
//   layer_latency, rtl/gen/plan.py serial_head_cycles).
`timescale 1ns / 1ps
`default_nettype none
module gsum_fc #(
    parameter CI = 8,
    parameter K = 10,
    parameter BITS = 4,
    parameter GSUM_W = 12,
    parameter WBITS = 8,
    parameter BIAS_W = 32,
    parameter LOGIT_W = 32,
    parameter CLASS_W = $clog2(K),
    parameter W_FILE = "",
    parameter B_FILE = "",
    parameter SER = 0
) (
    input  wire                         clk,
    input  wire                         rst,
    input  wire [CI*BITS-1:0]           s_axis_tdata,
    input  wire                         s_axis_tvalid,
    output wire                         s_axis_tready,
    input  wire                         s_axis_tlast,
    output wire [K*LOGIT_W+CLASS_W-1:0] m_axis_tdata,
    output wire                         m_axis_tvalid,
    input  wire                         m_axis_tready,
    output wire                         m_axis_tlast
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (CI < 1) begin : g_check_ci_must_be_at_least_1
        CI_must_be_at_least_1 CI_must_be_at_least_1();
    end
    if (K < 2) begin : g_check_k_must_be_at_least_2
        K_must_be_at_least_2 K_must_be_at_least_2();
    end
    if (BITS < 1) begin : g_check_bits_must_be_at_least_1
        BITS_must_be_at_least_1 BITS_must_be_at_least_1();
    end
    if (GSUM_W < BITS) begin : g_check_gsum_w_must_be_at_least_bits
        GSUM_W_must_be_at_least_BITS GSUM_W_must_be_at_least_BITS();
    end
    if (WBITS < 1) begin : g_check_wbits_must_be_at_least_1
        WBITS_must_be_at_least_1 WBITS_must_be_at_least_1();
    end
    if (BIAS_W < 1) begin : g_check_bias_w_must_be_at_least_1
        BIAS_W_must_be_at_least_1 BIAS_W_must_be_at_least_1();
    end
    if (LOGIT_W <= GSUM_W) begin : g_check_logit_w_must_exceed_gsum_w
        LOGIT_W_must_exceed_GSUM_W LOGIT_W_must_exceed_GSUM_W();
    end
    if (WBITS > LOGIT_W && WBITS > BIAS_W) begin : g_check_wbits_must_fit_logit_w_or_bias_w
        WBITS_must_fit_LOGIT_W_or_BIAS_W WBITS_must_fit_LOGIT_W_or_BIAS_W();
    end
    if (K >= 2 && (1 << CLASS_W) < K) begin : g_check_class_w_must_hold_k
        CLASS_W_must_hold_K CLASS_W_must_hold_K();
    end
endgenerate

localparam CW = (CI > 1) ? $clog2(CI) : 1;
// internal logit width: the bias may be declared wider than the logits (its values fit in
// LOGIT_W, as every logit does); computing in AW bits keeps every bias bit used
localparam AW = (BIAS_W > LOGIT_W) ? BIAS_W : LOGIT_W;
localparam KW = $clog2(K);
localparam [31:0] CLAST_32 = CI - 1;
localparam [31:0] KLAST_32 = K - 1;
localparam [CW-1:0] CLAST = CLAST_32[CW-1:0];
localparam [KW-1:0] KLAST = KLAST_32[KW-1:0];

// ST_DRAIN (SER = 0): the last MAC's accumulation clock
localparam [2:0] ST_IDLE = 3'd0, ST_MAC = 3'd1, ST_ARGMAX = 3'd2, ST_OUT = 3'd3, ST_DRAIN = 3'd4;

// the input skid buffer: i_* is the stream the head works on
wire [CI*BITS-1:0] i_tdata;
wire               i_tvalid, i_tready, i_tlast;
axis_skid #(.DATA_W(CI*BITS)) in_skid (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
    .m_axis_tdata(i_tdata), .m_axis_tvalid(i_tvalid), .m_axis_tready(i_tready), .m_axis_tlast(i_tlast)
);

reg [K*WBITS-1:0]  w_mem [0:CI-1];
reg [K*WBITS-1:0]  wcol_q;
reg [BIAS_W-1:0]   b_mem [0:K-1];
initial begin
    $readmemh(W_FILE, w_mem);
    $readmemh(B_FILE, b_mem);
end

reg [CI*GSUM_W-1:0] g_reg = {CI*GSUM_W{1'b0}}, g_next;
reg [CI*GSUM_W-1:0] gh_reg = {CI*GSUM_W{1'b0}}, gh_next;     // hold, shifted down per MAC cycle
reg [K*AW-1:0]      logit_reg = {K*AW{1'b0}}, logit_next;
reg [2:0]           state_reg = ST_IDLE, state_next;
reg [CW-1:0]        c_reg = {CW{1'b0}}, c_next;
reg [KW-1:0]        k_reg = {KW{1'b0}}, k_next;
reg [AW-1:0]        best_reg = {AW{1'b0}}, best_next;
reg [KW-1:0]        cls_reg = {KW{1'b0}}, cls_next;
reg [K*LOGIT_W+CLASS_W-1:0] m_axis_tdata_reg = {(K*LOGIT_W+CLASS_W){1'b0}}, m_axis_tdata_next;
reg                 m_axis_tvalid_reg = 1'b0, m_axis_tvalid_next;

reg                 first_reg = 1'b1, first_next;               // SER: next channel 0 starts a frame
// SER: the MAC stage, one clock after a channel step: x[c] and the step's flags (the weight
// column of that c is read in the step's clock, so it is there with them)
reg [BITS-1:0]      xq_reg = {BITS{1'b0}};
reg                 macq_reg = 1'b0, freshq_reg = 1'b0, lastq_reg = 1'b0;
// the accumulation clock of a MAC (both modes): the products, their flags
localparam PW = WBITS + ((SER != 0) ? BITS : GSUM_W) + 1;   // a signed product w * operand
reg [K*PW-1:0]      prod_reg = {K*PW{1'b0}}, prod_next;
reg                 acc_reg = 1'b0, fresha_reg = 1'b0, lasta_reg = 1'b0;

wire busy = (state_reg != ST_IDLE);
// SER = 0: the beat's register stage (see Architecture): per channel c, x[c] and the flags
// acc_b[c] (add x to g) and ld_b[c] (the tlast beat: g + x to the hold register, g cleared);
// mac_b[c]: a copy of state_reg == ST_MAC per channel (the hold register's shift). Each copy
// loads only when it changes or may change (its enable reads its own value: the same next
// values, but no two copies are the same cell, so synthesis cannot merge them back into one
// flip-flop; keep alone does not stop yosys' opt_merge).
reg [CI*BITS-1:0]   xb_reg = {CI*BITS{1'b0}};
(* keep *) reg [CI-1:0] acc_b_reg = {CI{1'b0}};
(* keep *) reg [CI-1:0] ld_b_reg = {CI{1'b0}};
(* keep *) reg [CI-1:0] mac_b_reg = {CI{1'b0}};
// a tlast beat on its way to the sums: the head is taken from its acceptance on
wire pend = (SER == 0) && ld_b_reg[0];
// SER: a channel step of the beat on s_axis (held during the argmax; its last channel of a tlast
// beat also while the previous result waits in the output register)
wire ser_step = i_tvalid && (state_reg != ST_ARGMAX) && !lastq_reg && !lasta_reg
                && !((c_reg == CLAST) && i_tlast && busy);
assign i_tready = (SER != 0) ? (ser_step && (c_reg == CLAST)) : !((busy || pend) && i_tlast);
wire accept = i_tvalid && i_tready;

assign m_axis_tdata = m_axis_tdata_reg;
assign m_axis_tvalid = m_axis_tvalid_reg;
assign m_axis_tlast = m_axis_tvalid_reg;

// argmax step: compare logit[k] (at the bottom of the rotated logits) with the best so far
// (strictly greater: ties keep the lower index)
wire [AW-1:0] lk = logit_reg[AW-1:0];
wire lk_gt = $signed(lk) > $signed(best_reg);
wire [KW-1:0] cls_step = lk_gt ? k_reg : cls_reg;
wire [CLASS_W-1:0] cls_out;
generate
    if (CLASS_W > KW) begin : g_cls_ext
        assign cls_out = {{(CLASS_W-KW){1'b0}}, cls_step};
    end else begin : g_cls_same
        assign cls_out = cls_step;
    end
endgenerate

// biases and products sign-extended to AW (a product wider than AW: its low AW bits, the
// same sums modulo 2^AW, and every logit fits in LOGIT_W <= AW)
wire [K*AW-1:0] bias_ext;
wire [K*AW-1:0] prod_ext;
genvar gk;
generate
    for (gk = 0; gk < K; gk = gk + 1) begin : g_bias
        if (AW > BIAS_W) begin : g_ext
            assign bias_ext[gk*AW +: AW] = {{(AW-BIAS_W){b_mem[gk][BIAS_W-1]}}, b_mem[gk]};
        end else begin : g_same
            assign bias_ext[gk*AW +: AW] = b_mem[gk];
        end
        if (AW > PW) begin : g_pext
            assign prod_ext[gk*AW +: AW] = {{(AW-PW){prod_reg[gk*PW + PW-1]}}, prod_reg[gk*PW +: PW]};
        end else begin : g_ptrunc
            assign prod_ext[gk*AW +: AW] = prod_reg[gk*PW +: AW];
        end
    end
endgenerate

wire [CI*GSUM_W-1:0] gh_down = gh_reg >> GSUM_W;   // the hold register one channel down
// the MAC state begins in the next clock (mac_b's copies load only then, or while set)
wire mac_start = (state_reg != ST_MAC) && (state_next == ST_MAC);
integer c, k;
integer cr;   // the copies' loop (its own variable: c belongs to the combinational block)
reg [GSUM_W-1:0]  gsum;
reg [WBITS-1:0]   wsel;
reg [PW-1:0]      w_ext;
reg [PW-1:0]      g_ext;
reg [K*LOGIT_W-1:0] logit_out;   // of logit_next: the output is loaded after the K-th rotation
reg               mac;     // the K MACs run this clock
reg               fresh;   // SER: ... starting from the biases
reg               last_mac;  // the frame's last MAC clock

always @* begin
    g_next = g_reg;
    gh_next = gh_reg;
    logit_next = logit_reg;
    state_next = state_reg;
    c_next = c_reg;
    k_next = k_reg;
    best_next = best_reg;
    cls_next = cls_reg;
    m_axis_tdata_next = m_axis_tdata_reg;
    m_axis_tvalid_next = m_axis_tvalid_reg;
    c = 0;
    k = 0;
    gsum = {GSUM_W{1'b0}};
    wsel = {WBITS{1'b0}};
    w_ext = {PW{1'b0}};
    g_ext = {PW{1'b0}};
    logit_out = {K*LOGIT_W{1'b0}};
    prod_next = prod_reg;
    first_next = first_reg;
    mac = 1'b0;
    fresh = 1'b0;
    last_mac = 1'b0;

    // global sums (SER = 0), from stage b; the hold register loads the tlast beat's sums and
    // shifts down by one channel per MAC clock (never both: a tlast beat reaches stage b only
    // while the head is idle)
    if (SER == 0) begin
        for (c = 0; c < CI; c = c + 1) begin
            gsum = g_reg[c*GSUM_W +: GSUM_W] + {{(GSUM_W-BITS){1'b0}}, xb_reg[c*BITS +: BITS]};
            if (acc_b_reg[c]) begin
                g_next[c*GSUM_W +: GSUM_W] = gsum;
            end else if (ld_b_reg[c]) begin
                g_next[c*GSUM_W +: GSUM_W] = {GSUM_W{1'b0}};
            end
            if (ld_b_reg[c]) begin
                gh_next[c*GSUM_W +: GSUM_W] = gsum;
            end else if (mac_b_reg[c]) begin
                gh_next[c*GSUM_W +: GSUM_W] = gh_down[c*GSUM_W +: GSUM_W];
            end
        end
    end

    // the K MACs: logit[k] (or bias[k]) + w[k, c] * operand, operand = g[c] (the low word of the
    // hold register, SER = 0, MAC state) or x[c] (SER = 1, the MAC stage of a channel step)
    if (SER != 0) begin
        mac = macq_reg;
        fresh = freshq_reg;
        g_ext = {{(PW-BITS){1'b0}}, xq_reg};
        if (ser_step) begin
            c_next = (c_reg == CLAST) ? {CW{1'b0}} : c_reg + 1'b1;
        end
    end else begin
        mac = (state_reg == ST_MAC);
        g_ext = {{(PW-GSUM_W){1'b0}}, gh_reg[GSUM_W-1:0]};
        if (mac) begin
            c_next = (c_reg == CLAST) ? {CW{1'b0}} : c_reg + 1'b1;
        end
    end
    // the products of this MAC clock (registered), then their accumulation in the next clock
    if (mac) begin
        for (k = 0; k < K; k = k + 1) begin
            wsel = wcol_q[k*WBITS +: WBITS];
            w_ext = {{(PW-WBITS){wsel[WBITS-1]}}, wsel};
            prod_next[k*PW +: PW] = w_ext * g_ext;
        end
    end
    if (acc_reg) begin
        for (k = 0; k < K; k = k + 1) begin
            logit_next[k*AW +: AW] = (fresha_reg ? bias_ext[k*AW +: AW] : logit_reg[k*AW +: AW])
                                     + prod_ext[k*AW +: AW];
        end
    end
    if (SER != 0) begin
        if (ser_step && (c_reg == CLAST)) begin
            first_next = i_tlast;
        end
        last_mac = lastq_reg;
    end else if (state_reg == ST_MAC) begin
        last_mac = (c_reg == CLAST);
    end
    // the argmax starts after the accumulation of the last MAC of a frame, at k = 0
    if (lasta_reg) begin
        k_next = {KW{1'b0}};
        best_next = {1'b1, {(AW-1){1'b0}}};
        cls_next = {KW{1'b0}};
        state_next = ST_ARGMAX;
    end

    case (state_reg)
        ST_IDLE: begin
            if (SER == 0 && ld_b_reg[0]) begin
                logit_next = bias_ext;
                c_next = {CW{1'b0}};
                state_next = ST_MAC;
            end
        end
        ST_MAC: begin
            if (last_mac) begin
                state_next = ST_DRAIN;
            end
        end
        ST_DRAIN: begin
            // lasta_reg is set in this clock: the argmax start above moves on to ST_ARGMAX
        end
        ST_ARGMAX: begin
            if (lk_gt) begin
                best_next = lk;
            end
            cls_next = cls_step;
            k_next = k_reg + 1'b1;
            logit_next = {logit_reg[AW-1:0], logit_reg[K*AW-1:AW]};
            if (k_reg == KLAST) begin
                for (k = 0; k < K; k = k + 1) begin
                    logit_out[k*LOGIT_W +: LOGIT_W] = logit_next[k*AW +: LOGIT_W];
                end
                m_axis_tdata_next = {logit_out, cls_out};
                m_axis_tvalid_next = 1'b1;
                state_next = ST_OUT;
            end
        end
        ST_OUT: begin
            if (m_axis_tready) begin
                m_axis_tvalid_next = 1'b0;
                state_next = ST_IDLE;
            end
        end
        default: begin
            state_next = ST_IDLE;
        end
    endcase
end

// the weight column of the next cycle's c (always in range: c_reg wraps or stops at CI when
// the MAC state ends, and the column is only used in the MAC state); SER: of this cycle's c,
// for the MAC stage of this cycle's step
/* verilator lint_off CMPCONST */  // CI a power of two: c_next never exceeds CLAST
wire [CW-1:0] c_rd = (rst || (SER == 0 && c_next > CLAST)) ? {CW{1'b0}} : (SER != 0) ? c_reg : c_next;
/* verilator lint_on CMPCONST */
always @(posedge clk) begin
    wcol_q <= w_mem[c_rd];
end

always @(posedge clk) begin
    xb_reg <= i_tdata;
    for (cr = 0; cr < CI; cr = cr + 1) begin
        if (acc_b_reg[cr] || accept) begin
            acc_b_reg[cr] <= (SER == 0) && accept && !i_tlast;
        end
        if (ld_b_reg[cr] || accept) begin
            ld_b_reg[cr] <= (SER == 0) && accept && i_tlast;
        end
        if (mac_b_reg[cr] || mac_start) begin
            mac_b_reg[cr] <= (SER == 0) && (state_next == ST_MAC);
        end
    end
    if (rst) begin
        acc_b_reg <= {CI{1'b0}};
        ld_b_reg <= {CI{1'b0}};
        mac_b_reg <= {CI{1'b0}};
    end
end

always @(posedge clk) begin
    macq_reg <= (SER != 0) && ser_step;
    freshq_reg <= (SER != 0) && ser_step && first_reg && (c_reg == {CW{1'b0}});
    lastq_reg <= (SER != 0) && ser_step && (c_reg == CLAST) && i_tlast;
    if (ser_step) begin
        xq_reg <= i_tdata[c_reg*BITS +: BITS];
    end
    prod_reg <= prod_next;
    acc_reg <= mac;
    fresha_reg <= fresh;
    lasta_reg <= last_mac;
    if (rst) begin
        macq_reg <= 1'b0;
        freshq_reg <= 1'b0;
        lastq_reg <= 1'b0;
        acc_reg <= 1'b0;
        fresha_reg <= 1'b0;
        lasta_reg <= 1'b0;
    end
end

always @(posedge clk) begin
    g_reg <= g_next;
    gh_reg <= gh_next;
    logit_reg <= logit_next;
    state_reg <= state_next;
    c_reg <= c_next;
    first_reg <= first_next;
    k_reg <= k_next;
    best_reg <= best_next;
    cls_reg <= cls_next;
    m_axis_tdata_reg <= m_axis_tdata_next;
    m_axis_tvalid_reg <= m_axis_tvalid_next;
    if (rst) begin
        g_reg <= {CI*GSUM_W{1'b0}};
        gh_reg <= {CI*GSUM_W{1'b0}};
        logit_reg <= {K*AW{1'b0}};
        state_reg <= ST_IDLE;
        c_reg <= {CW{1'b0}};
        first_reg <= 1'b1;
        k_reg <= {KW{1'b0}};
        best_reg <= {AW{1'b0}};
        cls_reg <= {KW{1'b0}};
        m_axis_tdata_reg <= {(K*LOGIT_W+CLASS_W){1'b0}};
        m_axis_tvalid_reg <= 1'b0;
    end
end

`ifdef FORMAL
// Formal (make formal, formal/f_gsum_fc.v): frames in (accepted tlast beats) - beats out at the
// ports = the frame being computed or waiting (0 or 1); the state machine's counters stay in range.
reg [1:0] f_inflight = 2'd0;
always @(posedge clk) begin
    f_inflight <= f_inflight + {1'b0, accept && i_tlast} - {1'b0, m_axis_tvalid && m_axis_tready};
    if (rst) begin
        f_inflight <= 2'd0;
    end
end
always @* begin
    assert(f_inflight == {1'b0, busy || lastq_reg || lasta_reg || pend});
    // the per-channel copies agree; a tlast beat in the two stages only while the head is idle,
    // one at a time
    assert(acc_b_reg == {CI{acc_b_reg[0]}} && ld_b_reg == {CI{ld_b_reg[0]}});
    assert(mac_b_reg == {CI{state_reg == ST_MAC}});
    assert(!(acc_b_reg[0] && ld_b_reg[0]));
    if (SER == 0) begin
        assert(!(pend && busy));
    end else begin
        assert(!acc_b_reg[0] && !ld_b_reg[0]);
    end
    assert(m_axis_tvalid_reg == (state_reg == ST_OUT));
    if (state_reg == ST_MAC) begin
        assert(c_reg <= CLAST);
    end
    if (state_reg == ST_ARGMAX) begin
        assert(k_reg <= KLAST);
    end
    assert(state_reg <= ST_DRAIN);
    if (SER == 0) begin
        assert(!lasta_reg || state_reg == ST_DRAIN);
    end
end
`endif

endmodule
`default_nettype wire
