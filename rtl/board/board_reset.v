// board_reset: power-on and button reset for a board top.
//
// Parameters:
//   POR_BITS  the reset is held for 2^POR_BITS clocks after the PLL locks (default 16)
// Ports:
//   clk      the clock the reset is synchronous to (the PLL's output)
//   locked   the PLL's lock (asynchronous; synchronized here)
//   btn      reset button, active high (asynchronous; synchronized here)
//   rst      synchronous active-high reset: high from power-up (the registers' initial values)
//            until 2^POR_BITS clocks after locked is high and the button is released
`timescale 1ns / 1ps
`default_nettype none
module board_reset #(
    parameter POR_BITS = 16
) (
    input  wire clk,
    input  wire locked,
    input  wire btn,
    output wire rst
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (POR_BITS < 1 || POR_BITS > 30) begin : g_check_por_bits_must_be_1_to_30
        POR_BITS_must_be_1_to_30 POR_BITS_must_be_1_to_30();
    end
endgenerate

reg [1:0] lock_sync_reg = 2'b00;
reg [1:0] btn_sync_reg = 2'b00;
reg [POR_BITS:0] cnt_reg = {(POR_BITS + 1){1'b0}};
reg rst_reg = 1'b1;

assign rst = rst_reg;

always @(posedge clk) begin
    lock_sync_reg <= {lock_sync_reg[0], locked};
    btn_sync_reg <= {btn_sync_reg[0], btn};
    if (!lock_sync_reg[1] || btn_sync_reg[1]) begin
        cnt_reg <= {(POR_BITS + 1){1'b0}};
        rst_reg <= 1'b1;
    end else if (!cnt_reg[POR_BITS]) begin
        cnt_reg <= cnt_reg + 1'b1;
        rst_reg <= 1'b1;
    end else begin
        rst_reg <= 1'b0;
    end
end

endmodule
`default_nettype wire
