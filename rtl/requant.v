// requant: per-channel requantization by thresholds, a pure combinational function equal to
// golden.model.requant on every acc of the ACC_W-bit accumulator (golden/thresholds.py):
//
//   c[k] = (acc >= T[k]) xor neg        k = 1 .. NT = 2^ABITS - 1   (signed compare)
//   y    = c[1] + c[2] + ... + c[NT]
//
// The thresholds of one channel are monotone (nondecreasing for neg = 0, nonincreasing for
// neg = 1), so c is a thermometer code (c[k] = 1 exactly for k <= y) and y is its number of
// ones, bit by bit as XORs (below): no multiplier, no adder, two LUT levels after the compares.
//
// Parameters:
//   ACC_W   accumulator width, signed (default 10)
//   TH_W    threshold width, signed (golden.thresholds.threshold_bits(ACC_W) = ACC_W + 1)
//   ABITS   output activation bits, unsigned (default 4)
// Ports:
//   acc[ACC_W-1:0]; th[NT*TH_W:0] = {neg, T[NT], ..., T[1]} (T[k] at [(k-1)*TH_W +: TH_W], neg
//   at bit NT*TH_W: the word rtl/gen/params.py writes per channel); y[ABITS-1:0]. No clock.
`timescale 1ns / 1ps
`default_nettype none
module requant #(
    parameter ACC_W = 10,
    parameter TH_W = 11,
    parameter ABITS = 4
) (
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
endgenerate

localparam NT = (1 << ABITS) - 1;

wire neg = th[NT*TH_W];
wire signed [TH_W-1:0] a = {{(TH_W-ACC_W){acc[ACC_W-1]}}, acc};

// c[k-1] = threshold k passed
wire [NT-1:0] c;
genvar gk;
generate
    for (gk = 1; gk <= NT; gk = gk + 1) begin : g_cmp
        wire signed [TH_W-1:0] t = th[(gk-1)*TH_W +: TH_W];
        assign c[gk-1] = (a >= t) ^ neg;
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
