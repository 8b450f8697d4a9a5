// requant: per-channel requantization by thresholds, a combinational function (REG = 0; REG = 1
// registers the compares, below) equal to golden.model.requant on every acc of the ACC_W-bit
// accumulator (golden/thresholds.py):
//
//   c[k] = (acc >= T[k]) xor neg        k = 1 .. NT = 2^ABITS - 1   (signed compare)
//   y    = c[1] + c[2] + ... + c[NT]
//
// The thresholds of one channel are monotone (nondecreasing for neg = 0, nonincreasing for
// neg = 1), so c is a thermometer code (c[k] = 1 exactly for k <= y) and y is its number of
// ones, bit by bit as XORs (below): no multiplier, no adder, two LUT levels after the compares.
//
// REG = 1 registers the NT compare results c (loading with en): y is then the requant of the acc
// presented one enabled clock earlier, and no path runs from a compare into the XORs.
//
// Parameters:
//   ACC_W   accumulator width, signed (default 10)
//   TH_W    threshold width, signed (golden.thresholds.threshold_bits(ACC_W) = ACC_W + 1)
//   ABITS   output activation bits, unsigned (default 4)
//   REG     0: combinational (default); 1: the compares registered (rtl/gen/params.py:
//           requant_latency)
// Ports:
//   clk, en (REG = 1: the compare register loads when en = 1; unused at REG = 0); acc[ACC_W-1:0];
//   th[NT*TH_W:0] = {neg, T[NT], ..., T[1]} (T[k] at [(k-1)*TH_W +: TH_W], neg at bit NT*TH_W:
//   the word rtl/gen/params.py writes per channel); y[ABITS-1:0].
`timescale 1ns / 1ps
`default_nettype none
module requant #(
    parameter ACC_W = 10,
    parameter TH_W = 11,
    parameter ABITS = 4,
    parameter REG = 0
) (
    /* verilator lint_off UNUSEDSIGNAL */  // REG = 0: no register
    input  wire                          clk,
    input  wire                          en,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [ACC_W-1:0]              acc,
    input  wire [((1<<ABITS)-1)*TH_W:0]  th,
    output wire [ABITS-1:0]              y
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (ACC_W < 1) begin : g_check_acc_w_must_be_at_least_1
        ACC_W_must_be_at_least_1 ACC_W_must_be_at_least_1();
    end
    if (ABITS < 1) begin : g_check_abits_must_be_at_least_1
        ABITS_must_be_at_least_1 ABITS_must_be_at_least_1();
    end
    if (TH_W < ACC_W + 1) begin : g_check_th_w_must_be_at_least_acc_w_plus_1
        TH_W_must_be_at_least_ACC_W_plus_1 TH_W_must_be_at_least_ACC_W_plus_1();
    end
    if (REG != 0 && REG != 1) begin : g_check_reg_must_be_0_or_1
        REG_must_be_0_or_1 REG_must_be_0_or_1();
    end
endgenerate

localparam NT = (1 << ABITS) - 1;

wire neg = th[NT*TH_W];
wire signed [TH_W-1:0] a = {{(TH_W-ACC_W){acc[ACC_W-1]}}, acc};

// cmp[k-1] = threshold k passed; c: the same, registered at REG = 1
wire [NT-1:0] cmp, c;
genvar gk;
generate
    for (gk = 1; gk <= NT; gk = gk + 1) begin : g_cmp
        wire signed [TH_W-1:0] t = th[(gk-1)*TH_W +: TH_W];
        assign cmp[gk-1] = (a >= t) ^ neg;
    end
    if (REG != 0) begin : g_reg
        reg [NT-1:0] c_reg = {NT{1'b0}};
        always @(posedge clk) begin
            if (en) begin
                c_reg <= cmp;
            end
        end
        assign c = c_reg;
    end else begin : g_comb
        assign c = cmp;
    end
endgenerate

// the number of ones of the thermometer code c, bit by bit without a carry: bit j of y is the
// parity of the number of k <= y that are multiples of 2^j, i.e. the XOR of c[k-1] over the
// multiples k of 2^j (bit 0: all k; the MSB: c[2^(ABITS-1) - 1] alone)
genvar gj, gm;
generate
    for (gj = 0; gj < ABITS; gj = gj + 1) begin : g_bit
        localparam NM = NT >> gj;          // multiples of 2^j in 1 .. NT
        wire [NM-1:0] sel;
        for (gm = 1; gm <= NM; gm = gm + 1) begin : g_mul
            assign sel[gm-1] = c[(gm << gj) - 1];
        end
        assign y[gj] = ^sel;
    end
endgenerate

endmodule
`default_nettype wire
