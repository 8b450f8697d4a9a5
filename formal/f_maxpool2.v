// f_maxpool2: formal wrapper of maxpool2 (C = 1, BITS = 2, W = 4, H = 2).
// Proven (k-induction): AXI4-Stream rules on the output (assumed on the input), the state after
// reset, and no block created or lost: completed 2x2 blocks - beats out = output register (0/1),
// checked inside maxpool2 under `ifdef FORMAL. Frame shape (F_SHAPE, BMC): 8-beat input frames
// with tlast on the last beat give 2-beat output frames with tlast exactly on the 2nd beat
// (pixel values tied to 0 there: the shape does not depend on them).
`default_nettype none
module f_maxpool2 #(
    parameter W = 4,
    parameter H = 2,
    parameter DW = 2
) (
    input wire          clk,
    input wire          rst,
    input wire [DW-1:0] s_data,
    input wire          s_tvalid,
    input wire          s_tlast,
    input wire          m_tready
);

wire          s_tready, m_tvalid, m_tlast;
wire [DW-1:0] m_tdata;
`ifdef F_SHAPE
wire [DW-1:0] s_tdata = {DW{1'b0}};   // the frame shape does not depend on the pixel values
`else
wire [DW-1:0] s_tdata = s_data;
`endif

maxpool2 #(.C(1), .BITS(DW), .W(W), .H(H)) dut (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready), .s_axis_tlast(s_tlast),
    .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready), .m_axis_tlast(m_tlast)
);

fstart u_start (.clk(clk), .rst(rst));
faxis #(.DW(DW), .ASSUME(1)) u_in  (.clk(clk), .rst(rst), .tdata(s_tdata), .tvalid(s_tvalid), .tready(s_tready), .tlast(s_tlast));
faxis #(.DW(DW), .ASSUME(0)) u_out (.clk(clk), .rst(rst), .tdata(m_tdata), .tvalid(m_tvalid), .tready(m_tready), .tlast(m_tlast));
`ifdef F_SHAPE
fshape #(.IN_F(W*H), .OUT_F(W*H/4)) u_shape (.clk(clk), .rst(rst), .s_valid(s_tvalid), .m_valid(m_tvalid),
    .s_beat(s_tvalid && s_tready), .s_tlast(s_tlast), .m_beat(m_tvalid && m_tready), .m_tlast(m_tlast));
`endif

endmodule
`default_nettype wire
