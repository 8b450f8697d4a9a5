// f_window3x3_cols: formal wrapper of window3x3_cols (C = 1, BITS = 1, W = 4, H = 2: the
// row-memory line storage), port-level only.
// Bounded (BMC): AXI4-Stream rules on the output beats (column and flags held while not taken;
// assumed on the input), the state after reset, and, counting the beats that carry a window
// (m_axis_win): frame shape (8-beat frames in, tlast on the last: 8 windows out, one tlast, on
// the 8th; tlast only on a window beat) and no window created or lost (windows out never exceed
// pixels in, pixels in - windows out <= W + 2, and W + 3 quiet cycles after a frame's tlast
// every window of it has come out).
`default_nettype none
module f_window3x3_cols #(
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
wire [3*DW-1:0] m_tdata;
wire            m_win, m_padl, m_padr, m_ztop, m_zbot, m_need;

window3x3_cols #(.C(1), .BITS(DW), .W(W), .H(H)) dut (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready), .s_axis_tlast(s_tlast),
    .m_axis_tdata(m_tdata), .m_axis_win(m_win), .m_axis_padl(m_padl), .m_axis_padr(m_padr),
    .m_axis_ztop(m_ztop), .m_axis_zbot(m_zbot), .m_axis_need(m_need),
    .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready), .m_axis_tlast(m_tlast)
);

wire m_wvalid = m_tvalid && m_win;     // a beat that carries a window
wire m_wbeat = m_wvalid && m_tready;

fstart u_start (.clk(clk), .rst(rst));
faxis #(.DW(DW), .ASSUME(1)) u_in  (.clk(clk), .rst(rst), .tdata(s_tdata), .tvalid(s_tvalid), .tready(s_tready), .tlast(s_tlast));
faxis #(.DW(3*DW + 6), .ASSUME(0)) u_out (.clk(clk), .rst(rst),
    .tdata({m_need, m_zbot, m_ztop, m_padr, m_padl, m_win, m_tdata}), .tvalid(m_tvalid), .tready(m_tready), .tlast(m_tlast));
fshape #(.IN_F(W*H), .OUT_F(W*H)) u_shape (.clk(clk), .rst(rst), .s_valid(s_tvalid), .m_valid(m_wvalid),
    .s_beat(s_tvalid && s_tready), .s_tlast(s_tlast), .m_beat(m_wbeat), .m_tlast(m_tlast));
fcount #(.MAX(W + 2), .DRAIN(W + 3), .NEED_LAST(1)) u_count (.clk(clk), .rst(rst), .s_valid(s_tvalid),
    .s_beat(s_tvalid && s_tready), .s_tlast(s_tlast), .m_beat(m_wbeat), .m_ready(m_tready));

always @* begin
    if (!rst && m_tvalid && m_tlast) assert(m_win);
end

endmodule
`default_nettype wire
