// f_gsum_fc: formal wrapper of gsum_fc (CI = 2, K = 2, BITS = 2, GSUM_W = 4, WBITS = 2,
// BIAS_W = 4, LOGIT_W = 8; weights and biases from formal/gsum_{w,b}.hex).
// Proven (k-induction): AXI4-Stream rules on the output (assumed on the input), the state after
// reset, and no frame created or lost: frames in (tlast beats) - beats out = frame in the head
// (0/1), checked inside gsum_fc under `ifdef FORMAL. Frame shape (F_SHAPE, BMC): F-beat input
// frames give one output beat per frame, carrying tlast.
`default_nettype none
module f_gsum_fc #(
    parameter F = 3,
    parameter DW = 4,              // CI * BITS
    parameter OW = 2 * 8 + 1,      // K * LOGIT_W + CLASS_W
    parameter SER = 0              // 1 in the tasks prove_ser / shape_ser
) (
    input wire          clk,
    input wire          rst,
    input wire [DW-1:0] s_tdata,
    input wire          s_tvalid,
    input wire          s_tlast,
    input wire          m_tready
);

wire          s_tready, m_tvalid, m_tlast;
wire [OW-1:0] m_tdata;

gsum_fc #(.SER(SER), .CI(2), .K(2), .BITS(2), .GSUM_W(4), .WBITS(2), .BIAS_W(4), .LOGIT_W(8),
          .W_FILE("gsum_w.hex"), .B_FILE("gsum_b.hex")) dut (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready), .s_axis_tlast(s_tlast),
    .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready), .m_axis_tlast(m_tlast)
);

fstart u_start (.clk(clk), .rst(rst));
faxis #(.DW(DW), .ASSUME(1)) u_in  (.clk(clk), .rst(rst), .tdata(s_tdata), .tvalid(s_tvalid), .tready(s_tready), .tlast(s_tlast));
faxis #(.DW(OW), .ASSUME(0)) u_out (.clk(clk), .rst(rst), .tdata(m_tdata), .tvalid(m_tvalid), .tready(m_tready), .tlast(m_tlast));
`ifdef F_SHAPE
fshape #(.IN_F(F), .OUT_F(1)) u_shape (.clk(clk), .rst(rst), .s_valid(s_tvalid), .m_valid(m_tvalid),
    .s_beat(s_tvalid && s_tready), .s_tlast(s_tlast), .m_beat(m_tvalid && m_tready), .m_tlast(m_tlast));
`endif

endmodule
`default_nettype wire
