// qgp_lane: the 9:1 multiplexer and sign of one QGP output channel, for every input channel:
//
//   term[i] = sign[i] ? ~x : x,  x = {1'b0, win[tap[i]][i]}   (signed, BITS + 1 bits)
//           = (-1)^sign[i] * win[tap[i]][i] - sign[i]
//
// the leaves of that channel's adder tree: the sign is a ones' complement (an inversion, no
// carry chain), so the tree sums acc - nneg, nneg = the number of negative signs of the
// channel; rtl/gen/params.py folds nneg into the channel's requant thresholds.
//
// Two forms of the same function:
//   CONST = 1 (a FOLD-1 layer): taps and signs are the constant TS, so every multiplexer is a
//           wire and every sign an inversion or nothing, in the source itself (synthesis and
//           simulators see no multiplexer at all); the ts port is unused.
//   CONST = 0 (a folded layer): ts comes from the fold's ROM word; the multiplexer is an
//           indexed part-select of the channel's 9 window values padded with zeros to 16
//           (a tap above 8 selects 0), and the sign an XOR.
//
// Parameters: CI input channels, BITS unsigned activation bits, CONST (default 0), TS (CI*5
//   bits, used when CONST = 1; same layout as the ts port).
// Ports (no clock):
//   x[9*CI*BITS-1:0]    window beat, channel-major (window_unpack): channel i, tap t at
//                       [(i*9 + t)*BITS +: BITS]
//   ts[CI*5-1:0]        channel i at [i*5 +: 5] = {sign, tap[3:0]} (a tap above 8 selects 0)
//   term[CI*(BITS+1)-1:0]  term i at [i*(BITS+1) +: BITS+1], two's complement
`timescale 1ns / 1ps
`default_nettype none
module qgp_lane #(
    parameter CI = 4,
    parameter BITS = 4,
    parameter CONST = 0,
    parameter [CI*5-1:0] TS = 0
) (
    /* verilator lint_off UNUSEDSIGNAL */  // CONST = 1: the taps are the parameter TS, and the
    input  wire [9*CI*BITS-1:0]    x,      // window values no tap selects are unused
    input  wire [CI*5-1:0]         ts,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [CI*(BITS+1)-1:0]  term
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (CI < 1) begin : g_check_ci_must_be_at_least_1
        CI_must_be_at_least_1 CI_must_be_at_least_1();
    end
    if (BITS < 1) begin : g_check_bits_must_be_at_least_1
        BITS_must_be_at_least_1 BITS_must_be_at_least_1();
    end
endgenerate

localparam TW = BITS + 1;

genvar gi;
generate
    for (gi = 0; gi < CI; gi = gi + 1) begin : g_ch
        wire [BITS-1:0] xsel;
        wire            sgn;
        if (CONST != 0) begin : g_const
            localparam integer TAP = {28'd0, TS[gi*5 +: 4]};
            if (TAP < 9) begin : g_tap
                assign xsel = x[(gi*9 + TAP)*BITS +: BITS];
            end else begin : g_zero
                assign xsel = {BITS{1'b0}};
            end
            assign sgn = TS[gi*5 + 4];
        end else begin : g_mux
            // the channel's 9 values and 7 zeros: every 4-bit tap selects a defined value
            wire [16*BITS-1:0] xc = {{(7*BITS){1'b0}}, x[gi*9*BITS +: 9*BITS]};
            wire [3:0] tap = ts[gi*5 +: 4];
            assign xsel = xc[tap*BITS +: BITS];
            assign sgn = ts[gi*5 + 4];
        end
        assign term[gi*TW +: TW] = {1'b0, xsel} ^ {TW{sgn}};
    end
endgenerate

endmodule
`default_nettype wire
