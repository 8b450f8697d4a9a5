// f_axis_skid: formal wrapper of axis_skid (DATA_W = 2; HALF = 1 in task prove_half).
// Proven (k-induction): AXI4-Stream rules on the output (assumed on the input), the state after
// reset, and no beat created or lost: beats in - beats out = beats held (0..2), checked inside
// axis_skid under `ifdef FORMAL. Frame shape (F_SHAPE, BMC): input frames of F beats with tlast
// on the last beat come out with tlast exactly on every F-th beat.
`default_nettype none
module f_axis_skid #(
    parameter DW = 2,
    parameter F = 3,
    parameter HALF = 0
) (
    input wire          clk,
    input wire          rst,
    input wire [DW-1:0] s_tdata,
    input wire          s_tvalid,
    input wire          s_tlast,
    input wire          m_tready
);

wire          s_tready, m_tvalid, m_tlast;
wire [DW-1:0] m_tdata;

axis_skid #(.DATA_W(DW), .HALF(HALF)) dut (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready), .s_axis_tlast(s_tlast),
    .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready), .m_axis_tlast(m_tlast)
);

fstart u_start (.clk(clk), .rst(rst));
faxis #(.DW(DW), .ASSUME(1)) u_in  (.clk(clk), .rst(rst), .tdata(s_tdata), .tvalid(s_tvalid), .tready(s_tready), .tlast(s_tlast));
faxis #(.DW(DW), .ASSUME(0)) u_out (.clk(clk), .rst(rst), .tdata(m_tdata), .tvalid(m_tvalid), .tready(m_tready), .tlast(m_tlast));
`ifdef F_SHAPE
fshape #(.IN_F(F), .OUT_F(F)) u_shape (.clk(clk), .rst(rst), .s_valid(s_tvalid), .m_valid(m_tvalid),
    .s_beat(s_tvalid && s_tready), .s_tlast(s_tlast), .m_beat(m_tvalid && m_tready), .m_tlast(m_tlast));
`endif

endmodule
`default_nettype wire
