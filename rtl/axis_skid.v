// axis_skid: 2-entry skid buffer (register slice) for a valid/ready/last stream.
//
// Parameters:
//   DATA_W  width of tdata (default 8)
//   HALF    1: one register instead of two (no temp slot, no input multiplexer): at most one
//           beat every two clocks, for a stream that never carries more (a folded conv core's
//           output, FOLD >= 2) (default 0)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[DATA_W-1:0], s_axis_tvalid, s_axis_tready, s_axis_tlast   input stream
//   m_axis_tdata[DATA_W-1:0], m_axis_tvalid, m_axis_tready, m_axis_tlast   output stream
// Behaviour:
//   full throughput (one beat per clock), s_axis_tready and all m_axis_* outputs come
//   straight from registers (no combinational path from input to output).
//   HALF: s_axis_tready = output register empty, from its own register (a copy of
//   !m_axis_tvalid, so that the producer's stall logic reads a flip-flop placed near it, not the
//   output valid bit placed near the consumer); a beat is taken only into an empty output
//   register, so a beat every clock would be taken every other clock.
// Latency: 1 cycle (a beat accepted in cycle t is presented in cycle t+1).
`timescale 1ns / 1ps
`default_nettype none
module axis_skid #(
    parameter DATA_W = 8,
    parameter HALF = 0
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
endgenerate

// beats held (output register + temp slot): what beats in - beats out must equal
/* verilator lint_off UNUSEDSIGNAL */  // read by the formal checks only
wire [1:0] f_held;
/* verilator lint_on UNUSEDSIGNAL */

generate
    if (HALF != 0) begin : g_half
        reg              m_axis_tvalid_reg = 1'b0;
        reg [DATA_W-1:0] m_axis_tdata_reg = {DATA_W{1'b0}};
        reg              m_axis_tlast_reg = 1'b0;
        reg              s_axis_tready_reg = 1'b1;   // == !m_axis_tvalid_reg, always
        wire             take = s_axis_tvalid && s_axis_tready_reg;

        assign s_axis_tready = s_axis_tready_reg;
        assign m_axis_tdata  = m_axis_tdata_reg;
        assign m_axis_tvalid = m_axis_tvalid_reg;
        assign m_axis_tlast  = m_axis_tlast_reg;

        always @(posedge clk) begin
            if (m_axis_tready) begin
                m_axis_tvalid_reg <= 1'b0;
                s_axis_tready_reg <= 1'b1;
            end
            if (take) begin
                m_axis_tvalid_reg <= 1'b1;
                s_axis_tready_reg <= 1'b0;
                m_axis_tdata_reg <= s_axis_tdata;
                m_axis_tlast_reg <= s_axis_tlast;
            end
            if (rst) begin
                m_axis_tvalid_reg <= 1'b0;
                s_axis_tready_reg <= 1'b1;
                m_axis_tdata_reg <= {DATA_W{1'b0}};
                m_axis_tlast_reg <= 1'b0;
            end
        end
        assign f_held = {1'b0, m_axis_tvalid_reg};
`ifdef FORMAL
        always @* begin
            assert(s_axis_tready_reg == !m_axis_tvalid_reg);
        end
`endif
    end else begin : g_skid
        reg              s_axis_tready_reg = 1'b0;
        reg [DATA_W-1:0] m_axis_tdata_reg = {DATA_W{1'b0}};
        reg              m_axis_tvalid_reg = 1'b0, m_axis_tvalid_next;
        reg              m_axis_tlast_reg = 1'b0;
        reg [DATA_W-1:0] temp_tdata_reg = {DATA_W{1'b0}};
        reg              temp_tvalid_reg = 1'b0, temp_tvalid_next;
        reg              temp_tlast_reg = 1'b0;

        reg store_input_to_output;
        reg store_input_to_temp;
        reg store_temp_to_output;

        assign s_axis_tready = s_axis_tready_reg;
        assign m_axis_tdata  = m_axis_tdata_reg;
        assign m_axis_tvalid = m_axis_tvalid_reg;
        assign m_axis_tlast  = m_axis_tlast_reg;

        // ready next cycle if the output is taken, or the temp slot stays empty and the
        // output register is empty or not being filled by this cycle's input
        wire s_axis_tready_early = m_axis_tready || (!temp_tvalid_reg && (!m_axis_tvalid_reg || !s_axis_tvalid));

        always @* begin
            m_axis_tvalid_next = m_axis_tvalid_reg;
            temp_tvalid_next = temp_tvalid_reg;
            store_input_to_output = 1'b0;
            store_input_to_temp = 1'b0;
            store_temp_to_output = 1'b0;
            if (s_axis_tready_reg) begin
                if (m_axis_tready || !m_axis_tvalid_reg) begin
                    m_axis_tvalid_next = s_axis_tvalid;
                    store_input_to_output = 1'b1;
                end else begin
                    temp_tvalid_next = s_axis_tvalid;
                    store_input_to_temp = 1'b1;
                end
            end else if (m_axis_tready) begin
                m_axis_tvalid_next = temp_tvalid_reg;
                temp_tvalid_next = 1'b0;
                store_temp_to_output = 1'b1;
            end
        end

        always @(posedge clk) begin
            s_axis_tready_reg <= s_axis_tready_early;
            m_axis_tvalid_reg <= m_axis_tvalid_next;
            temp_tvalid_reg <= temp_tvalid_next;
            if (store_input_to_output) begin
                m_axis_tdata_reg <= s_axis_tdata;
                m_axis_tlast_reg <= s_axis_tlast;
            end else if (store_temp_to_output) begin
                m_axis_tdata_reg <= temp_tdata_reg;
                m_axis_tlast_reg <= temp_tlast_reg;
            end
            if (store_input_to_temp) begin
                temp_tdata_reg <= s_axis_tdata;
                temp_tlast_reg <= s_axis_tlast;
            end
            if (rst) begin
                s_axis_tready_reg <= 1'b0;
                m_axis_tvalid_reg <= 1'b0;
                temp_tvalid_reg <= 1'b0;
                m_axis_tdata_reg <= {DATA_W{1'b0}};
                m_axis_tlast_reg <= 1'b0;
                temp_tdata_reg <= {DATA_W{1'b0}};
                temp_tlast_reg <= 1'b0;
            end
        end
        assign f_held = {1'b0, m_axis_tvalid_reg} + {1'b0, temp_tvalid_reg};
`ifdef FORMAL
        always @* begin
            if (temp_tvalid_reg) begin
                assert(m_axis_tvalid_reg);
                assert(!s_axis_tready_reg);
            end
        end
`endif
    end
endgenerate

`ifdef FORMAL
// Formal (make formal, formal/f_axis_skid.v): beats in - beats out at the ports = beats held
// (output register + temp slot), the invariant k-induction needs to close.
reg [1:0] f_inflight = 2'd0;
always @(posedge clk) begin
    f_inflight <= f_inflight + {1'b0, s_axis_tvalid && s_axis_tready} - {1'b0, m_axis_tvalid && m_axis_tready};
    if (rst) begin
        f_inflight <= 2'd0;
    end
end
always @* begin
    assert(f_inflight == f_held);
end
`endif

endmodule
`default_nettype wire
