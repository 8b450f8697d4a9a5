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

// Two forms of the same permutation, chosen per simulator:
// - one continuous assign per value (synthesis, Verilator: each is a fixed bit-field copy;
//   a loop form measured 56 % slower in the Verilator regression, its loops not unrolled);
// - under Icarus one function, one driver of x: with 9*CI assigns driving slices of x, Icarus
//   re-evaluates every reader of x on every slice update (~1M part-select evaluations per clock
//   on the shipped conv1, 0.6 s per simulated cycle; 20x faster with the function).
// The cocotb testbenches (Icarus) check the function against golden, the Verilator regression
// and the gate-level flow the assigns.
`ifdef __ICARUS__
function [9*CI*BITS-1:0] unpack;
    input [9*CI*BITS-1:0] w;
    integer i, t;
    begin   // every bit is assigned: 9*CI values of BITS bits
        for (i = 0; i < CI; i = i + 1) begin
            for (t = 0; t < 9; t = t + 1) begin
                unpack[(i*9 + t)*BITS +: BITS] = w[(t*CI + i)*BITS +: BITS];
            end
        end
    end
endfunction

assign x = unpack(win);
`else
genvar gi, gt;
generate
    for (gi = 0; gi < CI; gi = gi + 1) begin : g_ch
        for (gt = 0; gt < 9; gt = gt + 1) begin : g_tap
            assign x[(gi*9 + gt)*BITS +: BITS] = win[(gt*CI + gi)*BITS +: BITS];
        end
    end
endgenerate
`endif

endmodule
`default_nettype wire
