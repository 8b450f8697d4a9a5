// fshape: frame shape. Input frames are IN_F accepted beats with tlast on the last one
// (assumed); the output must then carry exactly one tlast per OUT_F beats, on the last one
// (asserted). Both positions restart on rst.
`default_nettype none
module fshape #(
    parameter IN_F = 4,
    parameter OUT_F = 4
) (
    input wire clk,
    input wire rst,
    input wire s_valid,   // input beat offered (tlast is checked on every offer)
    input wire s_beat,    // input beat accepted
    input wire s_tlast,
    input wire m_valid,   // output beat offered
    input wire m_beat,    // output beat accepted
    input wire m_tlast
);
reg [15:0] f_ipos = 16'd0;
reg [15:0] f_opos = 16'd0;
always @(posedge clk) begin
    if (s_beat) f_ipos <= (f_ipos == IN_F - 1) ? 16'd0 : f_ipos + 16'd1;
    if (m_beat) f_opos <= (f_opos == OUT_F - 1) ? 16'd0 : f_opos + 16'd1;
    if (rst) begin
        f_ipos <= 16'd0;
        f_opos <= 16'd0;
    end
end
always @* begin
    assume(f_ipos < IN_F);
    if (s_valid) assume(s_tlast == (f_ipos == IN_F - 1));
    assert(f_opos < OUT_F);
    if (m_valid) assert(m_tlast == (f_opos == OUT_F - 1));
end
endmodule
`default_nettype wire
