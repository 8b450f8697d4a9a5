// fstart: every formal trace starts with a reset cycle.
`default_nettype none
module fstart (
    input wire clk,
    input wire rst
);
reg f_past_valid = 1'b0;
always @(posedge clk) f_past_valid <= 1'b1;
always @* if (!f_past_valid) assume(rst);
endmodule
`default_nettype wire
