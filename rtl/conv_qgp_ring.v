// conv_qgp_ring: the QGP 3x3 convolution of conv_qgp (same arithmetic, same output) for a
// folded layer (FOLD >= 2) that keeps its windows in per-channel tap memories, one per lane
// (tap_ring), addressed by the taps: no window register and no multiplexer. Its input is the
// column beats of window3x3_cols. FOLD >= 3 keeps one window per FOLD cycles (a column takes 3
// clocks to write); rtl/gen/params.py chooses it (ring_mode).
//
// Parameters: CI, CO, BITS, ACC_W, TH_W, PE, ABITS, TREE_REG, EN_COPIES, CREDIT, RQ_REG, TH_FILE, ROM_STYLE
//   as conv_qgp;
//   TS_FILE   $readmemh file, FOLD words of PE*CI*5 bits laid out as conv_qgp's, but each tap
//             is {kx, ky} (2 + 2 bits: the tap's column kx = dx + 1 and row ky = dy + 1,
//             tap_ring; rtl/gen/params.py writes it)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[3*CI*BITS-1:0], s_axis_win, s_axis_padl, s_axis_padr, s_axis_ztop,
//     s_axis_zbot, s_axis_need, s_axis_tvalid, s_axis_tready, s_axis_tlast   column beats, as
//     window3x3_cols puts them out
//   m_axis_tdata[CO*ABITS-1:0], m_axis_tvalid, m_axis_tready, m_axis_tlast   output pixels
// Architecture: a column beat with need is written one row per clock into the slot after the
//   last column's and taken (s_axis_tready) with its third row; it may start when no kept window
//   uses that slot inside the frame (a window uses its base slot - 2 unless padl, - 1, and the
//   base slot unless padr), so a window being computed never loses a column; a beat without need
//   is taken at once and not written. A win column appends its window (base slot = the slot
//   after the last column written, padl, padr, tlast) to a queue of two that conv_qgp_core takes
//   as its window stream; a win beat waits while the queue is full.
// Latency: a window's computation starts the clock after its column's third row (3 clocks after
//   the column is offered when nothing waits); from there as conv_qgp. See conv_layer for the
//   layer's latency (rtl/gen/params.py ring_latency).
`timescale 1ns / 1ps
`default_nettype none
module conv_qgp_ring #(
    parameter CI = 4,
    parameter CO = 8,
    parameter BITS = 4,
    parameter ACC_W = 10,
    parameter TH_W = 12,
    parameter PE = 4,
    parameter ABITS = 4,
    parameter TREE_REG = 0,
    parameter EN_COPIES = 1,
    parameter CREDIT = 0,
    parameter RQ_REG = 0,
    parameter TS_FILE = "",
    parameter TH_FILE = "",
    parameter ROM_STYLE = "auto"
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire [3*CI*BITS-1:0]   s_axis_tdata,
    input  wire                   s_axis_win,
    input  wire                   s_axis_padl,
    input  wire                   s_axis_padr,
    input  wire                   s_axis_ztop,
    input  wire                   s_axis_zbot,
    input  wire                   s_axis_need,
    input  wire                   s_axis_tvalid,
    output wire                   s_axis_tready,
    input  wire                   s_axis_tlast,
    output wire [CO*ABITS-1:0]    m_axis_tdata,
    output wire                   m_axis_tvalid,
    input  wire                   m_axis_tready,
    output wire                   m_axis_tlast
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys);
// conv_qgp_core checks the rest
generate
    if (PE >= 1 && CO / PE < 2) begin : g_check_fold_must_be_at_least_2
        FOLD_must_be_at_least_2 FOLD_must_be_at_least_2();
    end
endgenerate

localparam TW = BITS + 1;                        // a signed term x or ~x

wire [PE*CI*5-1:0]  ts_word;
wire [PE*CI*TW-1:0] term;          // lane p, input channel i at [(p*CI + i)*TW +: TW]
wire                core_tready;
wire                cur_v, cur_last;
conv_qgp_core #(.CI(CI), .CO(CO), .BITS(BITS), .ACC_W(ACC_W), .TH_W(TH_W), .PE(PE),
                .ABITS(ABITS), .TREE_REG(TREE_REG), .EN_COPIES(EN_COPIES), .CREDIT(CREDIT), .RQ_REG(RQ_REG), .TS_FILE(TS_FILE), .TH_FILE(TH_FILE),
                .ROM_STYLE(ROM_STYLE)) core (
    .clk(clk), .rst(rst),
    .s_axis_tvalid(cur_v), .s_axis_tready(core_tready), .s_axis_tlast(cur_last),
    .ts(ts_word), .term(term),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

// a kept window (valid v, base slot b, padl pl, padr pr) reads slot s inside the frame:
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

// column writes and the queue of kept windows (cur, then nxt)
localparam PB = CI*BITS;
reg [1:0] wph_reg = 2'd0;                 // row of the column beat being written
reg [1:0] ws_reg = 2'd0;                  // slot of the last column written
reg       cur_v_reg = 1'b0, nxt_v_reg = 1'b0;
reg [1:0] cur_base_reg = 2'd0, nxt_base_reg = 2'd0;
reg       cur_pl_reg = 1'b0, cur_pr_reg = 1'b0, cur_last_reg = 1'b0;
reg       nxt_pl_reg = 1'b0, nxt_pr_reg = 1'b0, nxt_last_reg = 1'b0;
wire [1:0] slot = ws_reg + 2'd1;          // the slot a written column goes to
// a kept window uses slot s inside the frame
wire cur_uses = uses(slot, cur_v_reg, cur_base_reg, cur_pl_reg, cur_pr_reg);
wire nxt_uses = uses(slot, nxt_v_reg, nxt_base_reg, nxt_pl_reg, nxt_pr_reg);
wire room = !(s_axis_win && nxt_v_reg);        // a win beat's window has a place in the queue
wire first = (wph_reg == 2'd0) && s_axis_tvalid && room;
wire skip = first && !s_axis_need;
wire start_ok = !cur_uses && !nxt_uses;
wire we = (wph_reg != 2'd0) || (first && s_axis_need && start_ok);
wire col_done = skip || (we && (wph_reg == 2'd2));
wire take = cur_v_reg && core_tready;
wire add = col_done && s_axis_win;
wire to_cur = add && !(take ? nxt_v_reg : cur_v_reg);
wire zero = (wph_reg == 2'd0 && s_axis_ztop) || (wph_reg == 2'd2 && s_axis_zbot);
wire [PB-1:0] wdata = zero ? {PB{1'b0}} : s_axis_tdata[wph_reg*PB +: PB];

assign s_axis_tready = skip || (wph_reg == 2'd2);

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
        cur_pl_reg <= s_axis_padl;
        cur_pr_reg <= s_axis_padr;
        cur_last_reg <= s_axis_tlast;
    end else if (add) begin
        nxt_v_reg <= 1'b1;
        nxt_base_reg <= slot;
        nxt_pl_reg <= s_axis_padl;
        nxt_pr_reg <= s_axis_padr;
        nxt_last_reg <= s_axis_tlast;
    end
    if (rst) begin
        wph_reg <= 2'd0;
        cur_v_reg <= 1'b0;
        nxt_v_reg <= 1'b0;
    end
end

assign cur_v = cur_v_reg;
assign cur_last = cur_last_reg;

genvar gp;
generate
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
        tap_ring #(.CI(CI), .BITS(BITS)) lane (
            .clk(clk), .we(we), .wslot(slot), .wrow(wph_reg), .wdata(wdata),
            .base(cur_base_reg), .padl(cur_pl_reg), .padr(cur_pr_reg),
            .ts(ts_word[gp*CI*5 +: CI*5]), .term(term[gp*CI*TW +: CI*TW])
        );
    end
endgenerate

endmodule
`default_nettype wire
