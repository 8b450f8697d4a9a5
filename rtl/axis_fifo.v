// axis_fifo: synchronous FIFO for a valid/ready/last stream.
//
// Parameters:
//   DATA_W  width of tdata (default 8)
//   DEPTH   number of entries, >= 2, need not be a power of two (default 16)
// Ports:
//   clk, rst (synchronous, active high; empties the FIFO)
//   s_axis_tdata[DATA_W-1:0], s_axis_tvalid, s_axis_tready, s_axis_tlast   input stream
//   m_axis_tdata[DATA_W-1:0], m_axis_tvalid, m_axis_tready, m_axis_tlast   output stream
// Behaviour:
//   full throughput; s_axis_tready (= not full) and m_axis_tvalid (= not empty) come from
//   registers; m_axis_tdata is an asynchronous read of the storage at the read pointer.
// Latency: 1 cycle (a beat written in cycle t is presented in cycle t+1).
`timescale 1ns / 1ps
`default_nettype none
module axis_fifo #(
    parameter DATA_W = 8,
    parameter DEPTH = 16
) (
    input  wire              clk,
    input  wire              rst,
    input  wire [DATA_W-1:0] s_axis_tdata,
    input  wire              s_axis_tvalid,
    output wire              s_axis_tready,
    input  wire              s_axis_tlast,
    output wire [DATA_W-1:0] m_axis_tdata,
    output wire              m_axis_tvalid,
    input  wire              m_axis_tready,
    output wire              m_axis_tlast
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (DATA_W < 1) begin : g_check_data_w_must_be_at_least_1
        DATA_W_must_be_at_least_1 DATA_W_must_be_at_least_1();
    end
    if (DEPTH < 2) begin : g_check_depth_must_be_at_least_2
        DEPTH_must_be_at_least_2 DEPTH_must_be_at_least_2();
    end
endgenerate

localparam PTR_W = (DEPTH > 1) ? $clog2(DEPTH) : 1;
localparam CNT_W = $clog2(DEPTH + 1);
localparam [31:0] PTR_LAST_32 = DEPTH - 1;
localparam [31:0] CNT_FULL_32 = DEPTH;
localparam [PTR_W-1:0] PTR_LAST = PTR_LAST_32[PTR_W-1:0];
localparam [CNT_W-1:0] CNT_FULL = CNT_FULL_32[CNT_W-1:0];

reg [DATA_W:0] mem [0:DEPTH-1];   // {tlast, tdata}
reg [PTR_W-1:0] wr_ptr_reg = {PTR_W{1'b0}}, wr_ptr_next;
reg [PTR_W-1:0] rd_ptr_reg = {PTR_W{1'b0}}, rd_ptr_next;
reg [CNT_W-1:0] count_reg = {CNT_W{1'b0}}, count_next;
reg full_reg = 1'b0, full_next;
reg empty_reg = 1'b1, empty_next;

integer k;
initial begin
    for (k = 0; k < DEPTH; k = k + 1) begin
        mem[k] = {(DATA_W+1){1'b0}};
    end
end

wire write = s_axis_tvalid && !full_reg;
wire read = m_axis_tready && !empty_reg;

assign s_axis_tready = !full_reg;
assign m_axis_tvalid = !empty_reg;
assign m_axis_tdata = mem[rd_ptr_reg][DATA_W-1:0];
assign m_axis_tlast = mem[rd_ptr_reg][DATA_W];

always @* begin
    wr_ptr_next = wr_ptr_reg;
    rd_ptr_next = rd_ptr_reg;
    count_next = count_reg;
    if (write) begin
        wr_ptr_next = (wr_ptr_reg == PTR_LAST) ? {PTR_W{1'b0}} : wr_ptr_reg + 1'b1;
    end
    if (read) begin
        rd_ptr_next = (rd_ptr_reg == PTR_LAST) ? {PTR_W{1'b0}} : rd_ptr_reg + 1'b1;
    end
    if (write && !read) begin
        count_next = count_reg + 1'b1;
    end else if (read && !write) begin
        count_next = count_reg - 1'b1;
    end
    full_next = (count_next == CNT_FULL);
    empty_next = (count_next == {CNT_W{1'b0}});
end

always @(posedge clk) begin
    wr_ptr_reg <= wr_ptr_next;
    rd_ptr_reg <= rd_ptr_next;
    count_reg <= count_next;
    full_reg <= full_next;
    empty_reg <= empty_next;
    if (write) begin
        mem[wr_ptr_reg] <= {s_axis_tlast, s_axis_tdata};
    end
    if (rst) begin
        wr_ptr_reg <= {PTR_W{1'b0}};
        rd_ptr_reg <= {PTR_W{1'b0}};
        count_reg <= {CNT_W{1'b0}};
        full_reg <= 1'b0;
        empty_reg <= 1'b1;
    end
end

`ifdef FORMAL
// Formal (make formal, formal/f_axis_fifo.v): beats in - beats out at the ports = entries held
// (count_reg <= DEPTH), and the pointer / flag invariants k-induction needs to close.
reg  [CNT_W:0] f_inflight = {(CNT_W+1){1'b0}};
wire [31:0]    f_wr = rd_ptr_reg + count_reg;
always @(posedge clk) begin
    f_inflight <= f_inflight + {{CNT_W{1'b0}}, write} - {{CNT_W{1'b0}}, read};
    if (rst) begin
        f_inflight <= {(CNT_W+1){1'b0}};
    end
end
always @* begin
    assert(f_inflight == {1'b0, count_reg});
    assert(count_reg <= CNT_FULL);
    assert(full_reg == (count_reg == CNT_FULL));
    assert(empty_reg == (count_reg == {CNT_W{1'b0}}));
    assert(rd_ptr_reg <= PTR_LAST && wr_ptr_reg <= PTR_LAST);
    assert({{(32-PTR_W){1'b0}}, wr_ptr_reg} == ((f_wr >= DEPTH) ? f_wr - DEPTH : f_wr));
end
`endif

endmodule
`default_nettype wire
