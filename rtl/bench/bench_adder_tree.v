// Balanced adder tree for the area benchmarks: N signed inputs of IW bits -> one signed sum of
// OW bits. Each level is only as wide as it needs to be (IW + depth), so the trees of the
// dense baselines and of the QGP layer are built the same way and compare fairly.
// Recursive by parameter: a tree of N splits into trees of N/2 and N - N/2.
module bench_adder_tree #(
    parameter N  = 4,   // number of terms
    parameter IW = 5,   // width of one term (signed)
    parameter OW = 8    // width of the sum (signed), at least IW + clog2(N)
) (
    input  wire [N*IW-1:0] in,
    output wire [OW-1:0]   sum
);
    generate
        if (N == 1 && OW == IW) begin : g_wire
            assign sum = in;
        end else if (N == 1) begin : g_leaf
            assign sum = {{(OW-IW){in[IW-1]}}, in};
        end else begin : g_node
            localparam NL = N / 2;
            localparam NR = N - NL;
            wire [OW-2:0] sl, sr;
            bench_adder_tree #(.N(NL), .IW(IW), .OW(OW-1)) u_l (.in(in[NL*IW-1:0]),  .sum(sl));
            bench_adder_tree #(.N(NR), .IW(IW), .OW(OW-1)) u_r (.in(in[N*IW-1:NL*IW]), .sum(sr));
            assign sum = {sl[OW-2], sl} + {sr[OW-2], sr};
        end
    endgenerate
endmodule
