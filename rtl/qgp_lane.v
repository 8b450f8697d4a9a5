// qgp_lane: the 9:1 multiplexer and sign of one QGP output channel, for every input channel:
//
//   term[i] = sign[i] ? ~x : x,  x = {1'b0, win[tap[i]][i]}   (signed, BITS + 1 bits)
//           = (-1)^sign[i] * win[tap[i]][i] - sign[i]
//
// the leaves of that channel's adder tree: the sign is a ones' complement (an inversion, no
// carry chain), so the tree sums acc - nneg, nneg = the number of negative signs of the
// channel; rtl/gen/params.py folds nneg into the channel's requant thresholds. With a constant
// ts word (FOLD 1) the multiplexers fold to wires and the signs to inversions; with a ROM word
// (FOLD > 1) they are real AND-OR multiplexers (no index arithmetic) and XORs.
//
// Parameters: CI input channels, BITS unsigned activation bits.
// Ports (no clock):
//   x[9*CI*BITS-1:0]    window beat, channel-major (window_unpack): channel i, tap t at
//                       [(i*9 + t)*BITS +: BITS]
//   ts[CI*5-1:0]        channel i at [i*5 +: 5] = {sign, tap[3:0]} (a tap above 8 selects 0)
//   term[CI*(BITS+1)-1:0]  term i at [i*(BITS+1) +: BITS+1], two's complement
`timescale 1ns / 1ps
`default_nettype none
module qgp_lane #(
    parameter CI = 4,
    parameter BITS = 4
) (
    input  wire [9*CI*BITS-1:0]    x,
    input  wire [CI*5-1:0]         ts,
    output wire [CI*(BITS+1)-1:0]  term
);

localparam TW = BITS + 1;

genvar gi, gt;
generate
    for (gi = 0; gi < CI; gi = gi + 1) begin : g_ch
        wire [3:0] tap = ts[gi*5 +: 4];
        // AND-OR 9:1 multiplexer: pick[t] = the window value of tap t if tap == t, else 0
        wire [9*BITS-1:0] pick;
        for (gt = 0; gt < 9; gt = gt + 1) begin : g_tap
            localparam [3:0] TV = gt;
            assign pick[gt*BITS +: BITS] = (tap == TV) ? x[(gi*9 + gt)*BITS +: BITS]
                                                       : {BITS{1'b0}};
        end
        wire [BITS-1:0] xsel = pick[0*BITS +: BITS] | pick[1*BITS +: BITS] | pick[2*BITS +: BITS]
                             | pick[3*BITS +: BITS] | pick[4*BITS +: BITS] | pick[5*BITS +: BITS]
                             | pick[6*BITS +: BITS] | pick[7*BITS +: BITS] | pick[8*BITS +: BITS];
        wire [TW-1:0] mag = {1'b0, xsel};
        assign term[gi*TW +: TW] = mag ^ {TW{ts[gi*5 + 4]}};
    end
endgenerate

endmodule
`default_nettype wire
