// Area baseline: an 8-bit-weight 3x3 convolution core with multipliers, CI -> CO channels,
// fully parallel (9*CI multiply-accumulates per output channel per clock):
//   acc[o] = sum_{i,t} w[o,i,t] * x[t,i],   w signed WBITS bits, x unsigned BITS bits.
// Same interface as conv_binary_dense (see there for the window and result layouts).
// Weights: port w, the read port of the weight memory: CO words of CI*9*WBITS bits, weight
//   (i, t) of output o at [(i*9 + t)*WBITS +: WBITS] of word o (the layout of conv_dense's W_FILE
//   in docs/INTERFACES.md). tb/bench ties it to a ROM loaded with $readmemh from a memfile
//   (synthesis then folds the constants: hardwired weights) or leaves it a port (programmable).
module conv_mac8 #(
    parameter CI     = 32,
    parameter CO     = 32,
    parameter BITS   = 4,
    parameter WBITS  = 8,
    parameter ACC_W  = BITS + WBITS + 9   // >= BITS + WBITS + clog2(9*CI)
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire [CO*CI*9*WBITS-1:0] w,
    input  wire [9*CI*BITS-1:0] s_axis_tdata,
    input  wire                 s_axis_tvalid,
    output wire                 s_axis_tready,
    output wire [CO*ACC_W-1:0]  m_axis_tdata,
    output wire                 m_axis_tvalid,
    input  wire                 m_axis_tready
);
    localparam PW = BITS + WBITS;  // one signed product


    wire [CO*ACC_W-1:0] acc;
    genvar o, i, t;
    generate
        for (o = 0; o < CO; o = o + 1) begin : g_out
            wire [CI*9*WBITS-1:0] wo = w[o*CI*9*WBITS +: CI*9*WBITS];
            wire [9*CI*PW-1:0]    prods;
            for (i = 0; i < CI; i = i + 1) begin : g_in
                for (t = 0; t < 9; t = t + 1) begin : g_tap
                    wire signed [BITS:0]    x  = {1'b0, s_axis_tdata[(t*CI + i)*BITS +: BITS]};
                    wire signed [WBITS-1:0] wt = wo[(i*9 + t)*WBITS +: WBITS];
                    // |x*wt| <= (2^BITS-1)*(2^(WBITS-1)-1) fits PW signed bits
                    wire signed [PW-1:0]    p  = x * wt;
                    assign prods[(i*9 + t)*PW +: PW] = p;
                end
            end
            bench_adder_tree #(.N(9*CI), .IW(PW), .OW(ACC_W)) u_sum (
                .in(prods), .sum(acc[o*ACC_W +: ACC_W]));
        end
    endgenerate

    bench_out_reg #(.DATA_W(CO*ACC_W)) u_out (
        .clk(clk), .rst(rst), .s_axis_tdata(acc), .s_axis_tvalid(s_axis_tvalid),
        .s_axis_tready(s_axis_tready), .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tready(m_axis_tready));
endmodule
