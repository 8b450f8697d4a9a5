// window_unpack: a 3x3 window beat from the stream layout to channel-major order; the one
// place the window layout is written down in Verilog:
//   stream (window3x3): tap t (row-major, t = (dy+1)*3 + (dx+1)), channel i at
//                       win[(t*CI + i)*BITS +: BITS]   (Python: tb/common/frames.window_frames)
//   channel-major:      the same value at         x[(i*9 + t)*BITS +: BITS]
//                       (the order of a dense weight word, i*9 + t)
//
// Parameters: CI channels, BITS bits per value. Ports: win in, x out (wires only). No clock.
`timescale 1ns / 1ps
`default_nettype none
module window_unpack #(
    parameter CI = 1,
    parameter BITS = 4
) (
    input  wire [9*CI*BITS-1:0] win,
    output wire [9*CI*BITS-1:0] x
);

genvar gi, gt;
generate
    for (gi = 0; gi < CI; gi = gi + 1) begin : g_ch
        for (gt = 0; gt < 9; gt = gt + 1) begin : g_tap
            assign x[(gi*9 + gt)*BITS +: BITS] = win[(gt*CI + gi)*BITS +: BITS];
        end
    end
endgenerate

endmodule
`default_nettype wire
