// faxis: AXI4-Stream handshake rules for one stream, as a formal checker (yosys read -formal).
//
//   ASSUME = 1: the rules are assumed (an input stream: the environment keeps them)
//   ASSUME = 0: the rules are asserted (an output stream: the block under proof keeps them)
// Rules (the cycle after a stall is checked; rst is synchronous, active high):
//   - a beat offered (tvalid) and not taken (!tready) stays offered: tvalid held until tready
//   - while it waits, tdata and tlast do not change
//   - (ASSUME = 0 only) the cycle after rst, tvalid is low (the state after reset)
// The first cycle of every trace is a reset cycle (assumed by the wrapper).
`default_nettype none
module faxis #(
    parameter DW = 8,
    parameter ASSUME = 0
) (
    input wire          clk,
    input wire          rst,
    input wire [DW-1:0] tdata,
    input wire          tvalid,
    input wire          tready,
    input wire          tlast
);

reg          f_past_valid = 1'b0;
reg          f_stall = 1'b0;      // last cycle: offered, not taken, not in reset
reg [DW-1:0] f_data = {DW{1'b0}};
reg          f_last = 1'b0;
reg          f_was_rst = 1'b0;

always @(posedge clk) begin
    f_past_valid <= 1'b1;
    f_stall <= !rst && tvalid && !tready;
    f_data <= tdata;
    f_last <= tlast;
    f_was_rst <= rst;
end

generate
    if (ASSUME) begin : g_assume
        always @* begin
            if (f_past_valid && f_stall && !rst) begin
                assume(tvalid);
                assume(tdata == f_data);
                assume(tlast == f_last);
            end
        end
    end else begin : g_assert
        always @* begin
            if (f_past_valid && f_stall) begin
                assert(tvalid);
                assert(tdata == f_data);
                assert(tlast == f_last);
            end
            if (f_past_valid && f_was_rst) begin
                assert(!tvalid);
            end
        end
    end
endgenerate

endmodule
`default_nettype wire
