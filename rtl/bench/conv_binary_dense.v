// Area baseline: a dense binary-weight 3x3 convolution core, CI -> CO channels, fully parallel.
// Every output channel sums all 9 taps of all CI input channels, each times +1 or -1:
//   acc[o] = sum_{i,t} (w[o,i,t] ? -x[t,i] : +x[t,i])
// Same shape and interface as the QGP cores of the benchmark (tb/bench/area.py), so that the
// only difference is what the weights allow: 9*CI terms per output here, CI in a QGP layer.
//
// Window beat (from a 3x3 window generator): tap t (row-major, t = ky*3+kx), channel i at
//   s_axis_tdata[(t*CI + i)*BITS +: BITS], unsigned.
// Result beat: channel o at m_axis_tdata[o*ACC_W +: ACC_W], signed.
// Weights: port w, the read port of the weight memory: CO words of CI*9 bits, bit (i*9 + t)
//   of word o = 1 means -1. tb/bench ties it to a ROM loaded with $readmemh from a memfile
//   (synthesis then folds the constants: hardwired weights) or leaves it a port (programmable).
// One output register with valid/ready (accepts a window every clock while the sink is ready).
module conv_binary_dense #(
    parameter CI     = 32,
    parameter CO     = 32,
    parameter BITS   = 4,
    parameter ACC_W  = BITS + 1 + 9   // >= BITS + 1 + clog2(9*CI)
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire [CO*CI*9-1:0]   w,
    input  wire [9*CI*BITS-1:0] s_axis_tdata,
    input  wire                 s_axis_tvalid,
    output wire                 s_axis_tready,
    output wire [CO*ACC_W-1:0]  m_axis_tdata,
    output wire                 m_axis_tvalid,
    input  wire                 m_axis_tready
);
    localparam TW = BITS + 1;  // one signed term


    wire [CO*ACC_W-1:0] acc;
    genvar o, i, t;
    generate
        for (o = 0; o < CO; o = o + 1) begin : g_out
            wire [CI*9-1:0]    wo = w[o*CI*9 +: CI*9];
            wire [9*CI*TW-1:0] terms;
            for (i = 0; i < CI; i = i + 1) begin : g_in
                for (t = 0; t < 9; t = t + 1) begin : g_tap
                    wire [TW-1:0] x = {1'b0, s_axis_tdata[(t*CI + i)*BITS +: BITS]};
                    assign terms[(i*9 + t)*TW +: TW] = wo[i*9 + t] ? -x : x;
                end
            end
            bench_adder_tree #(.N(9*CI), .IW(TW), .OW(ACC_W)) u_sum (
                .in(terms), .sum(acc[o*ACC_W +: ACC_W]));
        end
    endgenerate

    bench_out_reg #(.DATA_W(CO*ACC_W)) u_out (
        .clk(clk), .rst(rst), .s_axis_tdata(acc), .s_axis_tvalid(s_axis_tvalid),
        .s_axis_tready(s_axis_tready), .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tready(m_axis_tready));
endmodule
