// uart_tx: 8N1 UART transmitter (one start bit, 8 data bits LSB first, one stop bit).
//
// Parameters:
//   CLK_HZ  clock frequency in Hz (default 45,000,000)
//   BAUD    bit rate (default 3,000,000); CLKS_PER_BIT = round(CLK_HZ / BAUD) must be >= 4 and
//           within 2 % of CLK_HZ / BAUD (checked at elaboration)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[7:0], s_axis_tvalid, s_axis_tready   bytes to send (taken when the line is
//                           idle; back to back bytes follow each other with no gap)
//   txd                     the serial line (a register, idle high)
//   busy                    a byte is being sent
`timescale 1ns / 1ps
`default_nettype none
module uart_tx #(
    parameter CLK_HZ = 45000000,
    parameter BAUD = 3000000
) (
    input  wire       clk,
    input  wire       rst,
    input  wire [7:0] s_axis_tdata,
    input  wire       s_axis_tvalid,
    output wire       s_axis_tready,
    output wire       txd,
    output wire       busy
);

localparam integer CPB = (CLK_HZ + BAUD / 2) / BAUD;
localparam integer CPB_ERR = (CPB * BAUD > CLK_HZ) ? CPB * BAUD - CLK_HZ : CLK_HZ - CPB * BAUD;
localparam CW = $clog2(CPB + 1);
localparam [CW-1:0] CNT_FULL = CPB[CW-1:0] - 1'b1;

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

reg [8:0]    shift_reg = 9'h1ff, shift_next;   // {stop, data} after the start bit
reg [3:0]    bits_reg = 4'd0, bits_next;       // bits left to send (0: idle)
reg [CW-1:0] cnt_reg = {CW{1'b0}}, cnt_next;
reg          txd_reg = 1'b1, txd_next;

assign s_axis_tready = (bits_reg == 4'd0);
assign txd = txd_reg;
assign busy = (bits_reg != 4'd0);

always @* begin
    shift_next = shift_reg;
    bits_next = bits_reg;
    cnt_next = cnt_reg;
    txd_next = txd_reg;
    if (bits_reg == 4'd0) begin
        txd_next = 1'b1;
        if (s_axis_tvalid) begin
            txd_next = 1'b0;                     // start bit
            shift_next = {1'b1, s_axis_tdata};
            bits_next = 4'd10;
            cnt_next = CNT_FULL;
        end
    end else if (cnt_reg != 0) begin
        cnt_next = cnt_reg - 1'b1;
    end else begin
        bits_next = bits_reg - 1'b1;
        cnt_next = CNT_FULL;
        if (bits_reg != 4'd1) begin
            txd_next = shift_reg[0];
            shift_next = {1'b1, shift_reg[8:1]};
        end else begin
            txd_next = 1'b1;
        end
    end
end

always @(posedge clk) begin
    shift_reg <= shift_next;
    bits_reg <= bits_next;
    cnt_reg <= cnt_next;
    txd_reg <= txd_next;
    if (rst) begin
        shift_reg <= 9'h1ff;
        bits_reg <= 4'd0;
        cnt_reg <= {CW{1'b0}};
        txd_reg <= 1'b1;
    end
end

endmodule
`default_nettype wire
