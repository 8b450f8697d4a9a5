// conv_pipe: the fold counter, pipeline registers and output assembly shared by the conv cores
// (conv_qgp, conv_dense). The core around it supplies two combinational datapaths:
//
//   acc_lane = accumulators of output channels fold*PE .. fold*PE+PE-1 of the window on
//              s_axis (stage 0 -> 1), through DLAT register stages inside the datapath that
//              load when en = 1 (the core's adder trees); acc_lane is the result for the
//              window / fold presented DLAT enabled cycles earlier
//   y_lane   = requant of s1_acc for channels s1_fold*PE .. s1_fold*PE+PE-1 (stage 1 -> 2),
//              through YLAT register stages inside the datapath that load when en = 1 (the
//              requant's compare registers): y_lane is the result for the stage 1 registers
//              of YLAT enabled cycles earlier
//
// Parameters:
//   CO      output channels; PE channels per cycle; CO % PE == 0; FOLD = CO/PE cycles a window
//   ACC_W   accumulator width (signed)
//   ABITS   output activation bits
//   DLAT    register stages inside the core's stage 0 -> 1 datapath (default 0)
//   YLAT    register stages inside the core's stage 1 -> 2 datapath (default 0)
//   PREFETCH 1: the core reads its weight ROM through two registers (rom_addr, rom_ce,
//           rom_load), and the cycle after reset primes them: no window is taken in it
//           (default 0)
//   CREDIT  0: the pipeline stalls as a whole (en) when the output register is full and not
//           taken. >= 2: the pipeline never stalls (en = 1: no enable on any datapath register)
//           and the output register feeds a CREDIT-entry FIFO; a window enters only while a
//           credit is free (a register: fewer than CREDIT windows started and not yet taken
//           from the FIFO), so the FIFO never overflows. rtl/gen/params.py credit_depth: the
//           fewest entries that keep one window per FOLD clocks (default 0)
//   EN_COPIES copies of the enable (en_rep), each from its own copy of the output register's
//           valid bit, for the core's wide registers (adder trees, ROM words) and this block's
//           (stage 1 and 2 data, output assembly and register), so that no single net enables
//           them all (default 1)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tvalid, s_axis_tready, s_axis_tlast   window handshake (tdata stays with the core)
//   fold    [FW-1:0] fold index of the window on s_axis
//   rom_addr [FW-1:0], rom_ce PREFETCH: the address and read enable of a weight ROM read
//           through two registers: rom_addr is a register (0 in reset) holding the fold after
//           the next one, read when the fold advances (rom_ce; and in reset and the priming
//           cycle: words 0 and 1), so that the ROM's word (first register) is always the next
//           fold's; rom_load[EN_COPIES-1:0]: the second register loads it (the cycle after
//           reset, and every cycle the fold advances; a copy per slice of the word), so that it
//           always holds fold's word: no block RAM output in the tap / weight path, and no
//           enable logic in front of the block RAM's address
//   en      the whole pipeline advances (datapath registers load) when 1; en_rep
//           [EN_COPIES-1:0] the same, copies
//   acc_lane[PE*ACC_W-1:0] in: stage 1 datapath result for fold
//   s1_acc  [PE*ACC_W-1:0], s1_fold [FW-1:0] out: stage 1 registers (the requant inputs)
//   th_addr [FW-1:0], th_ce the address (a register) and read enable (en) of a core's
//           threshold ROM. DLAT > 0: the fold of the beat entering the datapath's last stage
//           (the one that leaves it at the next en), for a read through two registers (the
//           ROM's word, then a register loaded with en that holds s1_fold's word: no block RAM
//           output in the requant path, no added latency); DLAT = 0: the fold of the beat
//           entering stage 1 at the next en, for a read through one register (its word then
//           belongs to s1_fold)
//   y_lane  [PE*ABITS-1:0] in: stage 2 datapath result
//   m_axis_tdata[CO*ABITS-1:0], m_axis_tvalid, m_axis_tready, m_axis_tlast   output pixels
// Timing: a window is held for FOLD cycles (s_axis_tready only on the last fold). CREDIT = 0:
//   the pipeline stalls as a whole when the output register is full and not taken
//   (s_axis_tready depends combinationally on m_axis_tready); CREDIT >= 2: s_axis_tready and
//   m_axis_tvalid come from registers and m_axis_tready reaches only the credit count. The
//   window accepted in cycle t (its last fold) is on the output in cycle t+3+DLAT+YLAT+C (C = 1
//   with CREDIT, the FIFO; else 0); P windows offered every clock with the output always ready
//   take P*FOLD + 2 + DLAT + YLAT + C cycles from the first window offered to the last output
//   beat (CREDIT >= credit_depth).
`timescale 1ns / 1ps
`default_nettype none
module conv_pipe #(
    parameter CO = 4,
    parameter PE = 4,
    parameter ACC_W = 10,
    parameter ABITS = 4,
    parameter DLAT = 0,
    parameter YLAT = 0,
    parameter PREFETCH = 0,
    parameter EN_COPIES = 1,
    parameter CREDIT = 0,
    parameter FW = (CO / PE > 1) ? $clog2(CO / PE) : 1
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   s_axis_tvalid,
    output wire                   s_axis_tready,
    input  wire                   s_axis_tlast,
    output wire [FW-1:0]          fold,
    output wire [FW-1:0]          rom_addr,
    output wire                   rom_ce,
    output wire [EN_COPIES-1:0]   rom_load,
    output wire                   en,
    output wire [EN_COPIES-1:0]   en_rep,
    input  wire [PE*ACC_W-1:0]    acc_lane,
    output wire [PE*ACC_W-1:0]    s1_acc,
    output wire [FW-1:0]          s1_fold,
    output wire [FW-1:0]          th_addr,
    output wire                   th_ce,
    input  wire [PE*ABITS-1:0]    y_lane,
    output wire [CO*ABITS-1:0]    m_axis_tdata,
    output wire                   m_axis_tvalid,
    input  wire                   m_axis_tready,
    output wire                   m_axis_tlast
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (CO < 1) begin : g_check_co_must_be_at_least_1
        CO_must_be_at_least_1 CO_must_be_at_least_1();
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
    if (ABITS < 1) begin : g_check_abits_must_be_at_least_1
        ABITS_must_be_at_least_1 ABITS_must_be_at_least_1();
    end
    if (EN_COPIES < 1) begin : g_check_en_copies_must_be_at_least_1
        EN_COPIES_must_be_at_least_1 EN_COPIES_must_be_at_least_1();
    end
    if (CREDIT != 0 && CREDIT < 2) begin : g_check_credit_must_be_0_or_at_least_2
        CREDIT_must_be_0_or_at_least_2 CREDIT_must_be_0_or_at_least_2();
    end
    if (DLAT < 0) begin : g_check_dlat_must_not_be_negative
        DLAT_must_not_be_negative DLAT_must_not_be_negative();
    end
    if (YLAT < 0) begin : g_check_ylat_must_not_be_negative
        YLAT_must_not_be_negative YLAT_must_not_be_negative();
    end
    if (FW < 1 || (PE >= 1 && CO / PE > (1 << FW))) begin : g_check_fw_must_hold_the_fold_index
        FW_must_hold_the_fold_index FW_must_hold_the_fold_index();
    end
endgenerate

localparam FOLD = CO / PE;
localparam [31:0] FLAST_32 = FOLD - 1;
localparam [FW-1:0] FLAST = FLAST_32[FW-1:0];
localparam [31:0] FIRST_RA_32 = (PE >= 1 && CO >= 2 * PE) ? 1 : 0;   // FOLD > 1 (PE 0: no division)
localparam [FW-1:0] FIRST_RA = FIRST_RA_32[FW-1:0];   // rom_addr in the priming cycle
localparam [31:0] RA2_32 = (PE >= 1 && CO > 2 * PE) ? 2 : 0;   // fold 0 + 2 (mod FOLD)
localparam [FW-1:0] RA2 = RA2_32[FW-1:0];

// the fold after f (FOLD - 1 -> 0)
function [FW-1:0] fold_after;
    input [FW-1:0] f;
    begin
        fold_after = (f == FLAST) ? {FW{1'b0}} : f + 1'b1;
    end
endfunction

// PREFETCH: the cycle after reset primes the core's two-register weight read (no window taken)
reg  prime_reg = 1'b0;
wire prime = (PREFETCH != 0) && prime_reg;
wire in_valid = s_axis_tvalid && !prime;

// stage 0: fold counter
reg [FW-1:0] fold_reg = {FW{1'b0}}, fold_next;
// stage 1: accumulators
reg [PE*ACC_W-1:0] s1_acc_reg = {PE*ACC_W{1'b0}};
reg [FW-1:0]       s1_fold_reg = {FW{1'b0}}, s1_fold_next;
reg                s1_valid_reg = 1'b0, s1_valid_next;
reg                s1_last_reg = 1'b0, s1_last_next;
// stage 2: requantized activations
reg [PE*ABITS-1:0] s2_y_reg = {PE*ABITS{1'b0}};
reg [FW-1:0]       s2_fold_reg = {FW{1'b0}};
reg                s2_valid_reg = 1'b0;
reg                s2_last_reg = 1'b0;
// output: the lanes of folds 0 .. FOLD-2 collected in a shift register (fold 0 lowest: every
// fold result is shifted in at the top, so no per-fold decoder and no multiplexer per bit),
// then the whole pixel with fold FOLD-1's lanes on top
localparam AW = (FOLD > 1) ? (FOLD - 1) * PE * ABITS : 1;
reg [AW-1:0]        asm_reg = {AW{1'b0}};
/* verilator lint_off UNUSEDSIGNAL */  // FOLD == 1: no assembly
wire [AW-1:0]       asm_shift;
/* verilator lint_on UNUSEDSIGNAL */
wire [CO*ABITS-1:0] beat;
reg [CO*ABITS-1:0] m_axis_tdata_reg = {CO*ABITS{1'b0}};
reg                m_axis_tvalid_reg = 1'b0, m_axis_tvalid_next;
reg                m_axis_tlast_reg = 1'b0, m_axis_tlast_next;

// CREDIT: go_rep[k] = a credit is free (copies, one per share of the ROM word's load); a beat
// on s_axis enters the datapath (take) when valid and either a credit is free or it is a later
// fold of a window already started (the window's credit was taken at its fold 0)
wire out_ready;   // the output register is taken (CREDIT: always, the FIFO has room)
(* keep *) reg [EN_COPIES-1:0] go_rep = {EN_COPIES{1'b1}};
wire               fold_nz = (fold_reg != {FW{1'b0}});
wire [EN_COPIES-1:0] take_rep = (CREDIT > 0) ? {EN_COPIES{in_valid}} & (go_rep | {EN_COPIES{fold_nz}})
                                             : {EN_COPIES{in_valid}};
wire               take = take_rep[0];

assign en = (CREDIT > 0) || !m_axis_tvalid_reg || out_ready;
// the enable's copies: each from its own copy of m_axis_tvalid_reg, which loads with its own
// copy of en (so no two copies are the same cell: yosys' opt_merge would fold identical
// flip-flops into one, keep or not)
(* keep *) reg [EN_COPIES-1:0] mv_rep = {EN_COPIES{1'b0}};
assign en_rep = (CREDIT > 0) ? {EN_COPIES{1'b1}} : ~mv_rep | {EN_COPIES{out_ready}};
// copies of "stage 2 holds a window's last fold" (s2_valid_reg && s2_fold_reg == FLAST): the
// output register's load, a copy per share of it
(* keep *) reg [EN_COPIES-1:0] os_rep = {EN_COPIES{1'b0}};

// valid, last and fold index {valid, last, fold} of a beat through the register stages of the
// core's datapaths: chain 0 the DLAT stages of stage 0 -> 1 (from the beat entering at stage 0),
// chain 1 the YLAT stages of stage 1 -> 2 (from stage 1); *_in what enters a chain, *_out what
// leaves it (DLAT / YLAT enabled cycles later)
localparam BW = FW + 2;
wire [BW-1:0] d_in = {take, s_axis_tlast, fold_reg};
wire [BW-1:0] y_in = {s1_valid_reg, s1_last_reg, s1_fold_reg};
wire [BW-1:0] d_out, y_out;
/* verilator lint_off UNUSEDSIGNAL */  // d_chain: th_addr reads one stage's fold
wire [((DLAT > 0) ? DLAT : 1)*BW-1:0] d_chain;
/* verilator lint_on UNUSEDSIGNAL */
genvar gc;
generate
    for (gc = 0; gc < 2; gc = gc + 1) begin : g_chain
        localparam N = (gc == 0) ? DLAT : YLAT;
        wire [BW-1:0] in = (gc == 0) ? d_in : y_in;
        wire [BW-1:0] out;
        if (N > 0) begin : g_reg
            reg [N*BW-1:0] q = {N*BW{1'b0}};
            integer k;
            always @(posedge clk) begin
                if (en) begin
                    q[0 +: BW] <= in;
                    for (k = 1; k < N; k = k + 1) begin
                        q[k*BW +: BW] <= q[(k-1)*BW +: BW];
                    end
                end
                if (rst) begin
                    q <= {N*BW{1'b0}};
                end
            end
            assign out = q[(N-1)*BW +: BW];
            if (gc == 0) begin : g_taps
                assign d_chain = q;
            end
        end else begin : g_wire
            assign out = in;
            if (gc == 0) begin : g_taps
                assign d_chain = {BW{1'b0}};
            end
        end
    end
endgenerate
assign d_out = g_chain[0].out;
assign y_out = g_chain[1].out;
wire          d_valid = d_out[BW-1], d_last = d_out[BW-2];
wire [FW-1:0] d_fold = d_out[FW-1:0];
wire          y_valid = y_out[BW-1], y_last = y_out[BW-2];
wire [FW-1:0] y_fold = y_out[FW-1:0];
// the threshold ROM's address: the fold entering the datapath's last stage (DLAT > 1: stage
// DLAT - 2 of chain 0; DLAT = 1: fold_reg) or, DLAT = 0, the fold entering stage 1
assign th_addr = (DLAT > 1) ? d_chain[((DLAT > 1) ? DLAT-2 : 0)*BW +: FW] : fold_reg;
generate
    if (FOLD == 1) begin : g_asm1
        assign asm_shift = asm_reg;                           // nothing to collect
        assign beat = s2_y_reg;
    end else if (FOLD == 2) begin : g_asm2
        assign asm_shift = s2_y_reg;
        assign beat = {s2_y_reg, asm_reg};
    end else begin : g_asm
        assign asm_shift = {s2_y_reg, asm_reg[AW-1:PE*ABITS]};
        assign beat = {s2_y_reg, asm_reg};
    end
endgenerate

// CREDIT: s_axis_tready is a register (rdy: the fold is the last and, FOLD = 1, a credit free)
wire rdy;
assign s_axis_tready = (CREDIT > 0) ? rdy : en && (fold_reg == FLAST) && !prime;
assign fold = fold_reg;
// rom_addr: words 0 (read in reset) and 1 (in the priming cycle), then the fold after the next
reg [FW-1:0] ra_reg = {FW{1'b0}};
assign rom_addr = rst ? {FW{1'b0}} : ra_reg;
assign rom_ce = rst || prime || (en && take);
assign rom_load = {EN_COPIES{prime}} | (en_rep & take_rep);
assign th_ce = en;
assign s1_acc = s1_acc_reg;
assign s1_fold = s1_fold_reg;

// the output: the output register itself (CREDIT = 0) or the FIFO it feeds
generate
    if (CREDIT > 0) begin : g_credit
        localparam CW = $clog2(CREDIT + 1);
        localparam [CW-1:0] CMAX = CREDIT[CW-1:0];
        reg  [CW-1:0] n_reg = {CW{1'b0}};   // windows started and not yet taken from the FIFO
        localparam RDY0 = (FOLD == 1 && PREFETCH == 0) ? 1'b1 : 1'b0;   // s_axis_tready after reset
        reg           rdy_reg = RDY0;
        wire          start = take && (fold_reg == {FW{1'b0}});
        wire          pop = m_axis_tvalid && m_axis_tready;
        wire [CW-1:0] n_next = n_reg + {{(CW-1){1'b0}}, start} - {{(CW-1){1'b0}}, pop};
        wire          free_next = n_next < CMAX;   // a credit is free in the next cycle
        /* verilator lint_off UNUSEDSIGNAL */  // never full: the credits bound it
        wire          fifo_ready;
        /* verilator lint_on UNUSEDSIGNAL */
        always @(posedge clk) begin
            n_reg <= n_next;
            go_rep <= {EN_COPIES{free_next}};
            rdy_reg <= (fold_next == FLAST) && (FOLD > 1 || free_next);
            if (rst) begin
                n_reg <= {CW{1'b0}};
                go_rep <= {EN_COPIES{1'b1}};
                rdy_reg <= RDY0;
            end
        end
        assign rdy = rdy_reg;
        assign out_ready = 1'b1;
        axis_fifo #(.DATA_W(CO*ABITS), .DEPTH(CREDIT)) out_fifo (
            .clk(clk), .rst(rst),
            .s_axis_tdata(m_axis_tdata_reg), .s_axis_tvalid(m_axis_tvalid_reg),
            .s_axis_tready(fifo_ready), .s_axis_tlast(m_axis_tlast_reg),
            .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),
            .m_axis_tready(m_axis_tready), .m_axis_tlast(m_axis_tlast)
        );
    end else begin : g_stall
        assign out_ready = m_axis_tready;
        assign rdy = 1'b0;
        assign m_axis_tdata = m_axis_tdata_reg;
        assign m_axis_tvalid = m_axis_tvalid_reg;
        assign m_axis_tlast = m_axis_tlast_reg;
    end
endgenerate

// the wide data registers, a lane (of stage 1 / 2) or a fold's PE*ABITS bits (of the assembly
// and the output) per enable copy in turn. They load on every enabled clock: stage 1 and 2
// whatever their valid bits, the assembly shifts on bubbles too (the folds of a window are
// consecutive enabled clocks, so at its last fold the assembly holds its folds 0 .. FOLD-2 in
// order); the output register's chunk takes the beat when stage 2 holds a window's last fold
// (os_rep)
genvar gl;
integer ke;
generate
    for (gl = 0; gl < PE; gl = gl + 1) begin : g_lane
        always @(posedge clk) begin
            if (en_rep[gl % EN_COPIES]) begin
                s1_acc_reg[gl*ACC_W +: ACC_W] <= acc_lane[gl*ACC_W +: ACC_W];
                s2_y_reg[gl*ABITS +: ABITS] <= y_lane[gl*ABITS +: ABITS];
            end
            if (rst) begin
                s1_acc_reg[gl*ACC_W +: ACC_W] <= {ACC_W{1'b0}};
                s2_y_reg[gl*ABITS +: ABITS] <= {ABITS{1'b0}};
            end
        end
    end
    for (gl = 0; gl < FOLD; gl = gl + 1) begin : g_out
        always @(posedge clk) begin
            if (en_rep[gl % EN_COPIES] && os_rep[gl % EN_COPIES]) begin
                m_axis_tdata_reg[gl*PE*ABITS +: PE*ABITS] <= beat[gl*PE*ABITS +: PE*ABITS];
            end
            if (rst) begin
                m_axis_tdata_reg[gl*PE*ABITS +: PE*ABITS] <= {PE*ABITS{1'b0}};
            end
        end
        if (gl < FOLD - 1) begin : g_asm
            always @(posedge clk) begin
                if (en_rep[gl % EN_COPIES]) begin
                    asm_reg[gl*PE*ABITS +: PE*ABITS] <= asm_shift[gl*PE*ABITS +: PE*ABITS];
                end
                if (rst) begin
                    asm_reg[gl*PE*ABITS +: PE*ABITS] <= {PE*ABITS{1'b0}};
                end
            end
        end
    end
    if (FOLD == 1) begin : g_noasm
        always @(posedge clk) begin
            asm_reg <= {AW{1'b0}};
        end
    end
endgenerate

always @* begin
    fold_next = fold_reg;
    s1_fold_next = s1_fold_reg;
    s1_valid_next = s1_valid_reg;
    s1_last_next = s1_last_reg;
    m_axis_tvalid_next = m_axis_tvalid_reg;
    m_axis_tlast_next = m_axis_tlast_reg;
    if (en) begin
        // stage 0 -> 1
        s1_valid_next = d_valid;
        s1_fold_next = d_fold;
        s1_last_next = d_last;
        if (take) begin
            fold_next = fold_after(fold_reg);
        end
        // stage 2 -> output
        m_axis_tvalid_next = 1'b0;
        if (s2_valid_reg && s2_fold_reg == FLAST) begin
            m_axis_tvalid_next = 1'b1;
            m_axis_tlast_next = s2_last_reg;
        end
    end
end

always @(posedge clk) begin
    prime_reg <= rst;
    fold_reg <= fold_next;
    s1_fold_reg <= s1_fold_next;
    s1_valid_reg <= s1_valid_next;
    s1_last_reg <= s1_last_next;
    if (en) begin
        s2_fold_reg <= y_fold;
        s2_valid_reg <= y_valid;
        s2_last_reg <= y_last;
    end
    for (ke = 0; ke < EN_COPIES; ke = ke + 1) begin
        if (en_rep[ke]) begin
            mv_rep[ke] <= s2_valid_reg && (s2_fold_reg == FLAST);
            os_rep[ke] <= y_valid && (y_fold == FLAST);
        end
    end
    // rom_addr: the fold after the next one, two folds ahead of fold_reg from the priming
    // cycle on (PREFETCH = 0: from reset), a counter of its own that advances with the fold
    if (prime) begin
        ra_reg <= RA2;
    end else if (en && take) begin
        ra_reg <= fold_after(ra_reg);
    end
    m_axis_tvalid_reg <= m_axis_tvalid_next;
    m_axis_tlast_reg <= m_axis_tlast_next;
    if (rst) begin
        fold_reg <= {FW{1'b0}};
        s1_fold_reg <= {FW{1'b0}};
        s1_valid_reg <= 1'b0;
        s1_last_reg <= 1'b0;
        s2_fold_reg <= {FW{1'b0}};
        s2_valid_reg <= 1'b0;
        s2_last_reg <= 1'b0;
        mv_rep <= {EN_COPIES{1'b0}};
        os_rep <= {EN_COPIES{1'b0}};
        ra_reg <= (PREFETCH != 0) ? FIRST_RA : RA2;
        m_axis_tvalid_reg <= 1'b0;
        m_axis_tlast_reg <= 1'b0;
    end
end

endmodule
`default_nettype wire
