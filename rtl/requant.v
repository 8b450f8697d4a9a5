// requant: per-channel requantization, a pure combinational function.
//   y = clamp((acc * m + b) >>> SHIFT, 0, 2^ABITS - 1)
//   acc, m, b signed two's complement; >>> arithmetic (floor); computed in PROD_W bits, which
//   the bundle guarantees hold every acc*m + b (golden.model.requant is the reference).
//
// Parameters:
//   ACC_W   accumulator width, signed (default 20)
//   M_W     multiplier width, signed (default 16)
//   B_W     bias width, signed (default 32)
//   PROD_W  width of acc*m + b, signed (default 48)
//   SHIFT   right shift >= 0 (default 16)
//   ABITS   output activation bits, unsigned (default 4)
// Ports:
//   acc[ACC_W-1:0], m[M_W-1:0], b[B_W-1:0] in; y[ABITS-1:0] out. No clock.
`timescale 1ns / 1ps
`default_nettype none
module requant #(
    parameter ACC_W = 20,
    parameter M_W = 16,
    parameter B_W = 32,
    parameter PROD_W = 48,
    parameter SHIFT = 16,
    parameter ABITS = 4
) (
    input  wire [ACC_W-1:0] acc,
    input  wire [M_W-1:0]   m,
    input  wire [B_W-1:0]   b,
    output wire [ABITS-1:0] y
);

// Computed in XW = max(PROD_W, ACC_W, M_W, B_W) bits: the bundle guarantees |acc*m + b| fits in
// PROD_W, so the result is exact; the extra width only matters when an operand is wider than
// PROD_W (e.g. a small m), and then it keeps every input bit used.
localparam XW0 = (PROD_W > ACC_W) ? PROD_W : ACC_W;
localparam XW1 = (XW0 > M_W) ? XW0 : M_W;
localparam XW = (XW1 > B_W) ? XW1 : B_W;

wire signed [XW-1:0] acc_ext;
wire signed [XW-1:0] m_ext;
wire signed [XW-1:0] b_ext;

// sign extension to XW (an operand as wide as XW is taken as is)
generate
    if (XW > ACC_W) begin : g_acc_ext
        assign acc_ext = {{(XW-ACC_W){acc[ACC_W-1]}}, acc};
    end else begin : g_acc_same
        assign acc_ext = acc;
    end
    if (XW > M_W) begin : g_m_ext
        assign m_ext = {{(XW-M_W){m[M_W-1]}}, m};
    end else begin : g_m_same
        assign m_ext = m;
    end
    if (XW > B_W) begin : g_b_ext
        assign b_ext = {{(XW-B_W){b[B_W-1]}}, b};
    end else begin : g_b_same
        assign b_ext = b;
    end
endgenerate

wire signed [XW-1:0] prod = acc_ext * m_ext + b_ext;
wire signed [XW-1:0] sh = prod >>> SHIFT;

wire neg = sh[XW-1];
wire over = |sh[XW-1:ABITS];

assign y = neg ? {ABITS{1'b0}} : (over ? {ABITS{1'b1}} : sh[ABITS-1:0]);

endmodule
`default_nettype wire
