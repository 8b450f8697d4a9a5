// f_window3x3: formal wrapper of window3x3 (C = 1, BITS = 1, W = 4, H = 2: the row-memory line storage), port-level only (the
// block is being rewritten; nothing here names its internals).
// Bounded (BMC): AXI4-Stream rules on the output (assumed on the input), the state after reset,
// frame shape (8-beat frames in, tlast on the last: 8 windows out, one tlast on the 8th), and
// no window created or lost: windows out never exceed pixels in, pixels in - windows out <=
// W + 2, and W + 3 quiet cycles after a frame's tlast (no input offered, output ready) every
// window of it has come out.
`default_nettype none
module f_window3x3 #(
    parameter W = 4,
    parameter H = 2,
    parameter DW = 1
) (
    input wire          clk,
    input wire          rst,
    input wire [DW-1:0] s_tdata,
    input wire          s_tvalid,
    input wire          s_tlast,
    input wire          m_tready
);

wire            s_tready, m_tvalid, m_tlast;
wire [9*DW-1:0] m_tdata;

window3x3 #(.C(1), .BITS(DW), .W(W), .H(H)) dut (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready), .s_axis_tlast(s_tlast),
    .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready), .m_axis_tlast(m_tlast)
);

fstart u_start (.clk(clk), .rst(rst));
faxis #(.DW(DW), .ASSUME(1)) u_in  (.clk(clk), .rst(rst), .tdata(s_tdata), .tvalid(s_tvalid), .tready(s_tready), .tlast(s_tlast));
faxis #(.DW(9*DW), .ASSUME(0)) u_out (.clk(clk), .rst(rst), .tdata(m_tdata), .tvalid(m_tvalid), .tready(m_tready), .tlast(m_tlast));
fshape #(.IN_F(W*H), .OUT_F(W*H)) u_shape (.clk(clk), .rst(rst), .s_valid(s_tvalid), .m_valid(m_tvalid),
    .s_beat(s_tvalid && s_tready), .s_tlast(s_tlast), .m_beat(m_tvalid && m_tready), .m_tlast(m_tlast));
fcount #(.MAX(W + 2), .DRAIN(W + 3), .NEED_LAST(1)) u_count (.clk(clk), .rst(rst), .s_valid(s_tvalid),
    .s_beat(s_tvalid && s_tready), .s_tlast(s_tlast), .m_beat(m_tvalid && m_tready), .m_ready(m_tready));

endmodule
`default_nettype wire
