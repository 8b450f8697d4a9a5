// Area reference: the QGP 3x3 convolution core with programmable taps, CI -> CO channels, fully
// parallel. Taps and signs come in on a port (from a loadable weight memory outside the
// datapath), so synthesis keeps a real 9:1 multiplexer and a conditional negation per
// (out, in) channel pair, then a balanced adder tree over the CI inputs per output channel:
//   acc[o] = sum_i (-1)^sign[o,i] * x[tap[o,i], i]
// Same window / result layouts as conv_binary_dense; ts layout as conv_qgp's TS_FILE words:
//   ts[(o*CI + i)*5 +: 5] = {sign, tap[3:0]}, tap in 0..8 (t = ky*3 + kx).
// (The hardwired variant, with taps and signs as constants so that the multiplexers become
// wires, is generated from a bundle layer by tb/bench/hardwired.py into
// build/gen/bench/conv_qgp_hw.v.)
module conv_qgp_prog #(
    parameter CI    = 32,
    parameter CO    = 32,
    parameter BITS  = 4,
    parameter ACC_W = BITS + 1 + 5  // >= BITS + 1 + clog2(CI)
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire [CO*CI*5-1:0]   ts,
    input  wire [9*CI*BITS-1:0] s_axis_tdata,
    input  wire                 s_axis_tvalid,
    output wire                 s_axis_tready,
    output wire [CO*ACC_W-1:0]  m_axis_tdata,
    output wire                 m_axis_tvalid,
    input  wire                 m_axis_tready
);
    localparam TW = BITS + 1;

    wire [CO*ACC_W-1:0] acc;
    genvar o, i;
    generate
        for (o = 0; o < CO; o = o + 1) begin : g_out
            wire [CI*TW-1:0] terms;
            for (i = 0; i < CI; i = i + 1) begin : g_in
                wire [3:0] tap = ts[(o*CI + i)*5 +: 4];
                wire       neg = ts[(o*CI + i)*5 + 4];
                reg  [BITS-1:0] x;
                always @* begin
                    case (tap)
                        4'd0: x = s_axis_tdata[(0*CI + i)*BITS +: BITS];
                        4'd1: x = s_axis_tdata[(1*CI + i)*BITS +: BITS];
                        4'd2: x = s_axis_tdata[(2*CI + i)*BITS +: BITS];
                        4'd3: x = s_axis_tdata[(3*CI + i)*BITS +: BITS];
                        4'd4: x = s_axis_tdata[(4*CI + i)*BITS +: BITS];
                        4'd5: x = s_axis_tdata[(5*CI + i)*BITS +: BITS];
                        4'd6: x = s_axis_tdata[(6*CI + i)*BITS +: BITS];
                        4'd7: x = s_axis_tdata[(7*CI + i)*BITS +: BITS];
                        default: x = s_axis_tdata[(8*CI + i)*BITS +: BITS];  // 8 (9..15 unused)
                    endcase
                end
                wire [TW-1:0] xe = {1'b0, x};
                assign terms[i*TW +: TW] = neg ? -xe : xe;
            end
            bench_adder_tree #(.N(CI), .IW(TW), .OW(ACC_W)) u_sum (
                .in(terms), .sum(acc[o*ACC_W +: ACC_W]));
        end
    endgenerate

    bench_out_reg #(.DATA_W(CO*ACC_W)) u_out (
        .clk(clk), .rst(rst), .s_axis_tdata(acc), .s_axis_tvalid(s_axis_tvalid),
        .s_axis_tready(s_axis_tready), .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tready(m_axis_tready));
endmodule
