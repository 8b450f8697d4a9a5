// tap_ring: the 3x3 window of one QGP lane kept as the last four columns in a 16-word memory
// per input channel (one LUT RAM with an asynchronous read: TRELLIS_DPR16X4 on ECP5), read
// with the (out, in) pair's tap as the address; the memory's read port is the 9:1 multiplexer.
//
//   term[i] = sign[i] ? ~x : x,  x = {1'b0, win[tap[i]][i]}     (as qgp_lane computes it)
//
// Memory word {slot, row}: slots 0..3 hold columns (a ring, written by conv_qgp RING one row per
// clock), rows 0..2 the column's rows dy = -1, 0, +1; row 3 is never written and reads 0 (the
// padding: a tap outside the frame reads row 3).
//
// Parameters: CI input channels, BITS unsigned activation bits.
// Ports:
//   clk
//   we, wslot[1:0], wrow[1:0], wdata[CI*BITS-1:0]   write of one row of one column, channel i
//                       at [i*BITS +: BITS] (0 where the row is outside the frame)
//   base[1:0]           slot of the window's dx = +1 column (dx = 0 / -1: base - 1 / base - 2)
//   padl, padr          the window's dx = -1 / dx = +1 column is outside the frame
//   ts[CI*5-1:0]        channel i at [i*5 +: 5] = {sign, kx[1:0], ky[1:0]}: the tap's column
//                       kx = dx + 1 and row ky = dy + 1 (rtl/gen/params.py writes them; kx or
//                       ky = 3 reads 0)
//   term[CI*(BITS+1)-1:0]  term i at [i*(BITS+1) +: BITS+1], two's complement (no clock: the
//                       read is asynchronous)
`timescale 1ns / 1ps
`default_nettype none
module tap_ring #(
    parameter CI = 4,
    parameter BITS = 4
) (
    input  wire                   clk,
    input  wire                   we,
    input  wire [1:0]             wslot,
    input  wire [1:0]             wrow,
    input  wire [CI*BITS-1:0]     wdata,
    input  wire [1:0]             base,
    input  wire                   padl,
    input  wire                   padr,
    input  wire [CI*5-1:0]        ts,
    output wire [CI*(BITS+1)-1:0] term
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
        reg [BITS-1:0] mem [0:15];
        integer k;
        initial begin
            for (k = 0; k < 16; k = k + 1) begin
                mem[k] = {BITS{1'b0}};
            end
        end
        always @(posedge clk) begin
            if (we) begin
                mem[{wslot, wrow}] <= wdata[gi*BITS +: BITS];
            end
        end
        wire [1:0] kx = ts[gi*5 + 2 +: 2];
        wire [1:0] ky = ts[gi*5 +: 2];
        wire       pad = (kx == 2'd3) || (kx == 2'd0 && padl) || (kx == 2'd2 && padr);
        wire [1:0] slot = base + kx + 2'd2;
        wire [BITS-1:0] x = mem[{slot, pad ? 2'b11 : ky}];
        assign term[gi*TW +: TW] = {1'b0, x} ^ {TW{ts[gi*5 + 4]}};
    end
endgenerate

endmodule
`default_nettype wire
