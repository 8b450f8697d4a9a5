// uart_rx: 8N1 UART receiver (one start bit, 8 data bits LSB first, one stop bit).
//
// Parameters:
//   CLK_HZ  clock frequency in Hz (default 45,000,000)
//   BAUD    bit rate (default 3,000,000); CLKS_PER_BIT = round(CLK_HZ / BAUD) must be >= 4 and
//           within 2 % of CLK_HZ / BAUD (checked at elaboration)
// Ports:
//   clk, rst (synchronous, active high)
//   rxd                     the serial line (idle high), synchronized here by two flip-flops
//   m_axis_tdata[7:0], m_axis_tvalid   one-cycle pulse per byte received with a valid stop bit
//                           (a UART cannot be held off: there is no tready; the consumer takes
//                           every byte in the cycle it is offered)
//   frame_error             one-cycle pulse when a stop bit is low (the byte is dropped)
// Behaviour: a start bit is a low level seen again at its middle; data bits are sampled at their
// middles; after the stop bit the receiver waits for the next falling edge.
`timescale 1ns / 1ps
`default_nettype none
module uart_rx #(
    parameter CLK_HZ = 45000000,
    parameter BAUD = 3000000
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rxd,
    output wire [7:0] m_axis_tdata,
    output wire       m_axis_tvalid,
    output wire       frame_error
);

localparam integer CPB = (CLK_HZ + BAUD / 2) / BAUD;
localparam integer CPB_ERR = (CPB * BAUD > CLK_HZ) ? CPB * BAUD - CLK_HZ : CLK_HZ - CPB * BAUD;
localparam CW = $clog2(CPB + 1);
localparam [CW-1:0] CNT_FULL = CPB[CW-1:0] - 1'b1;
localparam [CW-1:0] CNT_HALF = CPB[CW:1] - 1'b1;

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (CPB < 4) begin : g_check_clk_hz_over_baud_must_be_at_least_4
        CLK_HZ_over_BAUD_must_be_at_least_4 CLK_HZ_over_BAUD_must_be_at_least_4();
    end
    if (CPB_ERR > CLK_HZ / 50) begin : g_check_baud_must_be_within_2_percent_of_clk_hz_over_a_whole_number
        BAUD_must_be_within_2_percent_of_CLK_HZ_over_a_whole_number BAUD_must_be_within_2_percent_of_CLK_HZ_over_a_whole_number();
    end
endgenerate

localparam [1:0] S_IDLE = 2'd0, S_START = 2'd1, S_DATA = 2'd2, S_STOP = 2'd3;

reg        sync0_reg = 1'b1, sync1_reg = 1'b1;
reg [1:0]  state_reg = S_IDLE, state_next;
reg [CW-1:0] cnt_reg = {CW{1'b0}}, cnt_next;
reg [2:0]  bit_reg = 3'd0, bit_next;
reg [7:0]  shift_reg = 8'd0, shift_next;
reg [7:0]  data_reg = 8'd0, data_next;
reg        valid_reg = 1'b0, valid_next;
reg        ferr_reg = 1'b0, ferr_next;

assign m_axis_tdata = data_reg;
assign m_axis_tvalid = valid_reg;
assign frame_error = ferr_reg;

always @* begin
    state_next = state_reg;
    cnt_next = cnt_reg;
    bit_next = bit_reg;
    shift_next = shift_reg;
    data_next = data_reg;
    valid_next = 1'b0;
    ferr_next = 1'b0;
    case (state_reg)
        S_IDLE: begin
            if (!sync1_reg) begin
                state_next = S_START;
                cnt_next = CNT_HALF;
            end
        end
        S_START: begin
            if (cnt_reg != 0) begin
                cnt_next = cnt_reg - 1'b1;
            end else if (sync1_reg) begin
                state_next = S_IDLE;          // a glitch, not a start bit
            end else begin
                state_next = S_DATA;
                cnt_next = CNT_FULL;
                bit_next = 3'd0;
            end
        end
        S_DATA: begin
            if (cnt_reg != 0) begin
                cnt_next = cnt_reg - 1'b1;
            end else begin
                shift_next = {sync1_reg, shift_reg[7:1]};
                cnt_next = CNT_FULL;
                bit_next = bit_reg + 1'b1;
                if (bit_reg == 3'd7) state_next = S_STOP;
            end
        end
        default: begin  // S_STOP
            if (cnt_reg != 0) begin
                cnt_next = cnt_reg - 1'b1;
            end else begin
                state_next = S_IDLE;
                if (sync1_reg) begin
                    data_next = shift_reg;
                    valid_next = 1'b1;
                end else begin
                    ferr_next = 1'b1;
                end
            end
        end
    endcase
end

always @(posedge clk) begin
    sync0_reg <= rxd;
    sync1_reg <= sync0_reg;
    state_reg <= state_next;
    cnt_reg <= cnt_next;
    bit_reg <= bit_next;
    shift_reg <= shift_next;
    data_reg <= data_next;
    valid_reg <= valid_next;
    ferr_reg <= ferr_next;
    if (rst) begin
        sync0_reg <= 1'b1;
        sync1_reg <= 1'b1;
        state_reg <= S_IDLE;
        cnt_reg <= {CW{1'b0}};
        bit_reg <= 3'd0;
        valid_reg <= 1'b0;
        ferr_reg <= 1'b0;
    end
end

endmodule
`default_nettype wire
