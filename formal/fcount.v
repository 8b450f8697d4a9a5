// fcount: beat accounting at the ports of a block that emits one output beat per input beat.
//   inflight = beats in - beats out (restarts at 0 on rst)
//   asserted: no beat is created (no output beat while inflight == 0), inflight <= MAX
//   (bounded), and no beat is lost: after DRAIN consecutive quiet cycles (no input offered,
//   output ready, and, when NEED_LAST = 1, the last input beat accepted was a tlast) inflight == 0.
`default_nettype none
module fcount #(
    parameter MAX = 4,
    parameter DRAIN = 8,
    parameter NEED_LAST = 0
) (
    input wire clk,
    input wire rst,
    input wire s_valid,
    input wire s_beat,
    input wire s_tlast,
    input wire m_beat,
    input wire m_ready
);
reg [7:0]  f_inflight = 8'd0;
reg [7:0]  f_quiet = 8'd0;
reg        f_ended = 1'b1;      // the last accepted input beat was a tlast (or none since reset)
always @(posedge clk) begin
    f_inflight <= f_inflight + {7'd0, s_beat} - {7'd0, m_beat};
    if (s_beat) f_ended <= s_tlast;
    if (!s_valid && m_ready && (f_ended || NEED_LAST == 0)) begin
        if (f_quiet != 8'hff) f_quiet <= f_quiet + 8'd1;
    end else begin
        f_quiet <= 8'd0;
    end
    if (rst) begin
        f_inflight <= 8'd0;
        f_ended <= 1'b1;
        f_quiet <= 8'd0;
    end
end
always @* begin
    if (f_inflight == 8'd0) assert(!m_beat);
    assert(f_inflight <= MAX);
    if (f_quiet >= DRAIN) assert(f_inflight == 8'd0);
end
endmodule
`default_nettype wire
