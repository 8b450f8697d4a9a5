// f_conv_pipe: formal wrapper of conv_pipe (CO = 4, PE = 2: FOLD = 2; ACC_W = 3, ABITS = 2),
// port-level only (the block is being rewritten; nothing here names its internals). The
// datapath inputs acc_lane / y_lane are free (any value every cycle).
// Bounded (BMC): AXI4-Stream rules on the output (assumed on the window handshake: tvalid and
// tlast held until tready), the state after reset, frame shape (F-window frames in, tlast on the
// last: F pixels out, one tlast on the F-th), and no pixel created or lost: pixels out never
// exceed windows in, windows in - pixels out <= 3 + DLAT + YLAT (stage 1, stage 2, output
// register and the DLAT + YLAT register stages of the core's datapaths; tasks DLAT = 0, DLAT = 2
// with 2 enable copies, DLAT = YLAT = 1), or with CREDIT (the never-stalling pipeline and its
// output FIFO; task DLAT = YLAT = 1, CREDIT 3, 2 copies) <= CREDIT (a window holds a credit from
// its first fold until its pixel leaves the FIFO: a FIFO overflow would lose a pixel), and
// DRAIN quiet cycles (no window offered, output ready) empty the pipeline.
`default_nettype none
module f_conv_pipe #(
    parameter CO = 4,
    parameter PE = 2,
    parameter ACC_W = 3,
    parameter ABITS = 2,
    parameter F = 3,
    parameter DLAT = 0,
    parameter YLAT = 0,
    parameter EN_COPIES = 1,
    parameter CREDIT = 0,
    parameter FW = (CO / PE > 1) ? $clog2(CO / PE) : 1
) (
    input wire                clk,
    input wire                rst,
    input wire                s_tvalid,
    input wire                s_tlast,
    input wire [PE*ACC_W-1:0] acc_lane,
    input wire [PE*ABITS-1:0] y_lane,
    input wire                m_tready
);

wire                s_tready, m_tvalid, m_tlast;
wire [CO*ABITS-1:0] m_tdata;
wire [FW-1:0]       fold, s1_fold;
wire [PE*ACC_W-1:0] s1_acc;

conv_pipe #(.CO(CO), .PE(PE), .ACC_W(ACC_W), .ABITS(ABITS), .DLAT(DLAT), .YLAT(YLAT), .EN_COPIES(EN_COPIES), .CREDIT(CREDIT)) dut (
    .clk(clk), .rst(rst),
    .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready), .s_axis_tlast(s_tlast),
    .fold(fold), .acc_lane(acc_lane), .s1_acc(s1_acc), .s1_fold(s1_fold), .y_lane(y_lane),
    .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready), .m_axis_tlast(m_tlast)
);

fstart u_start (.clk(clk), .rst(rst));
faxis #(.DW(1), .ASSUME(1)) u_in  (.clk(clk), .rst(rst), .tdata(1'b0), .tvalid(s_tvalid), .tready(s_tready), .tlast(s_tlast));
faxis #(.DW(CO*ABITS), .ASSUME(0)) u_out (.clk(clk), .rst(rst), .tdata(m_tdata), .tvalid(m_tvalid), .tready(m_tready), .tlast(m_tlast));
fshape #(.IN_F(F), .OUT_F(F)) u_shape (.clk(clk), .rst(rst), .s_valid(s_tvalid), .m_valid(m_tvalid),
    .s_beat(s_tvalid && s_tready), .s_tlast(s_tlast), .m_beat(m_tvalid && m_tready), .m_tlast(m_tlast));
fcount #(.MAX((CREDIT > 0) ? CREDIT : 3 + DLAT + YLAT), .DRAIN(2 * CO / PE + 3 + DLAT + YLAT + CREDIT), .NEED_LAST(0)) u_count (.clk(clk), .rst(rst), .s_valid(s_tvalid),
    .s_beat(s_tvalid && s_tready), .s_tlast(s_tlast), .m_beat(m_tvalid && m_tready), .m_ready(m_tready));

endmodule
`default_nettype wire
