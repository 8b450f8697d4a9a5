// adder_tree: balanced binary adder tree over N signed leaves, with optional pipeline registers
// every REG_EVERY levels (FINN MVAU style), stalled as a whole by en.
//
//   sum = (leaf[0] + leaf[1] + ... + leaf[N-1]) mod 2^OW     (two's complement)
//
// The caller chooses OW wide enough for the exact sum (then sum is exact); level k of the tree
// holds NP >> k partial sums of min(IW + k, OW) bits (NP = N rounded up to a power of two, the
// padding leaves are 0; a constant-0 leaf costs nothing after synthesis), LV = log2(NP) levels.
//
// Parameters:
//   N          leaves (>= 1)
//   IW         leaf width, signed (>= 1; a leaf wider than OW contributes its low OW bits)
//   OW         sum width, signed (>= 1)
//   REG_EVERY  0: purely combinational. R > 0: a register after level k for every k with
//              REG_FROM <= k < LV and (LV - k) % R == 0 (the last R levels, the R before them,
//              ...; the final sum is never registered here: the caller registers the sum).
//   REG_FROM   the first level that may be registered (default 2: the wide first level of a
//              big tree is not; 1 for a small tree, such as a product's partial products)
//   EN_W       copies of the enable (en[EN_W-1:0]): node n of a level and its leaf registers load
//              with en[n % EN_W] (all copies equal: a caller's replicated enable, so that no
//              single net enables every register of the tree) (default 1)
//   LEAF_REG   1: the leaves are registered before level 1 (a core whose leaves come from a
//              ROM word and a multiplexer or multiplier: that path ends here) (default 0).
//              LAT = LEAF_REG + ((REG_EVERY > 0 && LV > REG_FROM) ? (LV - REG_FROM) / REG_EVERY : 0)
//              register stages (rtl/gen/params.py: tree_latency).
// Ports:
//   clk; en[EN_W-1:0] (all tree registers load when en = 1, hold otherwise); leaf[N*IW-1:0] (leaf j at
//   [j*IW +: IW]); sum[OW-1:0] = the sum of the leaves presented LAT enabled cycles earlier.
//   No reset: the registers only carry data; the caller's valid bits travel alongside.
`timescale 1ns / 1ps
`default_nettype none
module adder_tree #(
    parameter N = 4,
    parameter IW = 5,
    parameter OW = 7,
    parameter REG_EVERY = 0,
    parameter REG_FROM = 2,
    parameter LEAF_REG = 0,
    parameter EN_W = 1
) (
    /* verilator lint_off UNUSEDSIGNAL */  // no register stage (REG_EVERY 0, LEAF_REG 0, a shallow tree)
    input  wire          clk,
    input  wire [EN_W-1:0] en,
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_off UNUSEDSIGNAL */  // IW > OW: the high bits of each leaf (mod 2^OW)
    input  wire [N*IW-1:0] leaf,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [OW-1:0] sum
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (N < 1) begin : g_check_n_must_be_at_least_1
        N_must_be_at_least_1 N_must_be_at_least_1();
    end
    if (IW < 1) begin : g_check_iw_must_be_at_least_1
        IW_must_be_at_least_1 IW_must_be_at_least_1();
    end
    if (OW < 1) begin : g_check_ow_must_be_at_least_1
        OW_must_be_at_least_1 OW_must_be_at_least_1();
    end
    if (EN_W < 1) begin : g_check_en_w_must_be_at_least_1
        EN_W_must_be_at_least_1 EN_W_must_be_at_least_1();
    end
    if (REG_EVERY < 0) begin : g_check_reg_every_must_not_be_negative
        REG_EVERY_must_not_be_negative REG_EVERY_must_not_be_negative();
    end
    if (REG_FROM < 1) begin : g_check_reg_from_must_be_at_least_1
        REG_FROM_must_be_at_least_1 REG_FROM_must_be_at_least_1();
    end
endgenerate

localparam LV = (N > 1) ? $clog2(N) : 0;
localparam NP = 1 << LV;

// width of level k: min(IW + k, OW)
function integer lw;
    input integer k;
    begin
        lw = (IW + k < OW) ? IW + k : OW;
    end
endfunction

// One wire per tree node (not one packed vector per level): simulators keep every partial sum in
// a machine word instead of read-modify-writing slices of wide vectors; synthesis sees the same
// adders. Node (k, n), k >= 1, is g_lv[k].g_n[n]: s as computed, q as seen by level k + 1
// (registered or not). Level 1 reads the leaves directly (no generate block per leaf: Verilator
// 5.006 loses generate blocks beyond about 3,000 iterations of one loop). With LEAF_REG the
// two leaves of each level-1 node are registered in that node (not as one wide vector: a
// simulator then never assembles the N*IW-bit leaf word from its parts every cycle).
genvar gk, gn;
generate
    for (gk = 1; gk <= LV; gk = gk + 1) begin : g_lv
        for (gn = 0; gn < (NP >> gk); gn = gn + 1) begin : g_n
            // keep: every node stays one adder (on ECP5 a CCU2C carry chain); without it yosys
            // merges the levels between registers into one multi-operand sum and maps it to
            // full adders in LUTs (conv5's tree over 256 terms: 2,125 LUT4 + 303 CCU2C = 2,731
            // LUT4 slots; with keep 931 CCU2C = 1,862)
            (* keep *) wire [lw(gk)-1:0] s;
            wire [lw(gk)-1:0] q;
            wire [lw(gk-1)-1:0] l, r;
            if (gk == 1) begin : g_leaves
                // leaves 2n and 2n+1 to lw(0) = min(IW, OW) bits (the low OW bits of a wider
                // leaf: mod 2^OW); padding leaves 0
                wire [lw(0)-1:0] lv, rv;
                if (2*gn < N) begin : g_l
                    assign lv = leaf[(2*gn)*IW +: lw(0)];
                end else begin : g_lpad
                    assign lv = {lw(0){1'b0}};
                end
                if (2*gn + 1 < N) begin : g_r
                    assign rv = leaf[(2*gn+1)*IW +: lw(0)];
                end else begin : g_rpad
                    assign rv = {lw(0){1'b0}};
                end
                if (LEAF_REG != 0) begin : g_lreg
                    reg [lw(0)-1:0] lq = {lw(0){1'b0}}, rq = {lw(0){1'b0}};
                    always @(posedge clk) begin
                        if (en[gn % EN_W]) begin
                            lq <= lv;
                            rq <= rv;
                        end
                    end
                    assign l = lq;
                    assign r = rq;
                end else begin : g_lwire
                    assign l = lv;
                    assign r = rv;
                end
            end else begin : g_nodes
                assign l = g_lv[gk-1].g_n[2*gn].q;
                assign r = g_lv[gk-1].g_n[2*gn+1].q;
            end
            if (lw(gk) > lw(gk-1)) begin : g_grow
                // one bit wider: sign-extend both operands
                assign s = {l[lw(gk-1)-1], l} + {r[lw(gk-1)-1], r};
            end else begin : g_cap
                // already OW bits: modulo 2^OW
                assign s = l + r;
            end
            if (REG_EVERY > 0 && gk >= REG_FROM && gk < LV
                && ((LV - gk) % (REG_EVERY > 0 ? REG_EVERY : 1)) == 0) begin : g_reg
                reg [lw(gk)-1:0] rg = {lw(gk){1'b0}};
                always @(posedge clk) begin
                    if (en[gn % EN_W]) begin
                        rg <= s;
                    end
                end
                assign q = rg;
            end else begin : g_wire
                assign q = s;
            end
        end
    end
    // the root, to OW bits: sign extension (a narrow tree) or as is (lw(LV) == OW)
    if (LV == 0) begin : g_one
        wire [lw(0)-1:0] v;
        if (LEAF_REG != 0) begin : g_lreg
            reg [lw(0)-1:0] vq = {lw(0){1'b0}};
            always @(posedge clk) begin
                if (en[0]) begin
                    vq <= leaf[0 +: lw(0)];
                end
            end
            assign v = vq;
        end else begin : g_lwire
            assign v = leaf[0 +: lw(0)];
        end
        if (lw(0) < OW) begin : g_ext
            assign sum = {{(OW-lw(0)){v[lw(0)-1]}}, v};
        end else begin : g_root
            assign sum = v;
        end
    end else if (lw(LV) < OW) begin : g_ext
        assign sum = {{(OW-lw(LV)){g_lv[LV].g_n[0].q[lw(LV)-1]}}, g_lv[LV].g_n[0].q};
    end else begin : g_root
        assign sum = g_lv[LV].g_n[0].q;
    end
endgenerate

endmodule
`default_nettype wire
