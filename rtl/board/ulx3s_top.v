// ulx3s_top: the generated network qgp_net on a ULX3S (LFE5U-85F) behind a UART link.
//
// Pins (rtl/board/ulx3s.lpf): clk_25mhz (the board's 25 MHz oscillator), btn[6:0] (btn[1], FIRE1,
// active high, resets the design), ftdi_txd (the FTDI chip's TX: the FPGA receives), ftdi_rxd
// (the FTDI chip's RX: the FPGA transmits), led[7:0]: led[5:0] the last class (binary),
// led[6] busy (a frame, an image or an answer in flight), led[7] the PLL is locked.
// Clock: clk_25mhz through an EHXPLLL to CLK_HZ = 25 MHz * CLKFB_DIV / CLKI_DIV (feedback from
// CLKOP; the VCO runs at CLK_HZ * CLKOP_DIV). The board build (qgp.board.build) chooses the
// dividers and sets every parameter from the network's qgp_net.json; the defaults below are the
// synthetic 'tiny' network at 45 MHz (lint only).
// Reset: power-on (board_reset: held until 2^POR_BITS clocks after the PLL locks) and btn[1].
// Protocol: board_proto (docs/BOARD.md), UART 8N1 at BAUD.
`timescale 1ns / 1ps
`default_nettype none
module ulx3s_top #(
    parameter C = 1,
    parameter H = 8,
    parameter W = 8,
    parameter BITS = 8,
    parameter IN_W = 8,
    parameter OUT_W = 194,
    parameter CLASS_W = 4,
    parameter LOGIT_W = 19,
    parameter K = 10,
    parameter CLK_HZ = 45000000,
    parameter BAUD = 3000000,
    parameter TIMEOUT_BITS = 32768,
    parameter [255:0] BUNDLE_SHA256 = 256'h0,
    parameter CLKI_DIV = 5,
    parameter CLKFB_DIV = 9,
    parameter CLKOP_DIV = 13,
    parameter CLKOP_CPHASE = 5,
    parameter POR_BITS = 16
) (
    input  wire       clk_25mhz,
    // verilator lint_off UNUSEDSIGNAL
    input  wire [6:0] btn,          // all seven buttons constrained; only btn[1] is used
    // verilator lint_on UNUSEDSIGNAL
    input  wire       ftdi_txd,
    output wire       ftdi_rxd,
    output wire [7:0] led
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (25000000 % CLKI_DIV != 0 || 25000000 / CLKI_DIV * CLKFB_DIV != CLK_HZ) begin : g_check_clk_hz_must_be_25_mhz_times_clkfb_div_over_clki_div
        CLK_HZ_must_be_25_MHz_times_CLKFB_DIV_over_CLKI_DIV CLK_HZ_must_be_25_MHz_times_CLKFB_DIV_over_CLKI_DIV();
    end
endgenerate

wire clk;
wire locked;
wire rst;

// the PLL's other outputs and the receiver's frame error are not used
/* verilator lint_off PINCONNECTEMPTY */
EHXPLLL #(
    .CLKI_DIV(CLKI_DIV),
    .CLKFB_DIV(CLKFB_DIV),
    .FEEDBK_PATH("CLKOP"),
    .OUTDIVIDER_MUXA("DIVA"),
    .CLKOP_ENABLE("ENABLED"),
    .CLKOP_DIV(CLKOP_DIV),
    .CLKOP_CPHASE(CLKOP_CPHASE),
    .CLKOP_FPHASE(0),
    .INTFB_WAKE("DISABLED"),
    .STDBY_ENABLE("DISABLED"),
    .PLLRST_ENA("DISABLED"),
    .DPHASE_SOURCE("DISABLED"),
    .PLL_LOCK_MODE(0)
) pll (
    .CLKI(clk_25mhz),
    .CLKFB(clk),
    .PHASESEL0(1'b0),
    .PHASESEL1(1'b0),
    .PHASEDIR(1'b0),
    .PHASESTEP(1'b0),
    .PHASELOADREG(1'b0),
    .STDBY(1'b0),
    .PLLWAKESYNC(1'b0),
    .RST(1'b0),
    .ENCLKOP(1'b0),
    .ENCLKOS(1'b0),
    .ENCLKOS2(1'b0),
    .ENCLKOS3(1'b0),
    .CLKOP(clk),
    .CLKOS(),
    .CLKOS2(),
    .CLKOS3(),
    .LOCK(locked),
    .INTLOCK(),
    .REFCLK(),
    .CLKINTFB()
);

/* verilator lint_on PINCONNECTEMPTY */

board_reset #(.POR_BITS(POR_BITS)) reset (
    .clk(clk), .locked(locked), .btn(btn[1]), .rst(rst)
);

wire [7:0] rx_tdata;
wire rx_tvalid;
wire [7:0] tx_tdata;
wire tx_tvalid, tx_tready, tx_busy;
wire [IN_W-1:0] in_tdata;
wire in_tvalid, in_tready, in_tlast;
wire [OUT_W-1:0] out_tdata;
wire out_tvalid, out_tready, out_tlast;
wire proto_busy;
wire [CLASS_W-1:0] last_class;

/* verilator lint_off PINCONNECTEMPTY */
uart_rx #(.CLK_HZ(CLK_HZ), .BAUD(BAUD)) urx (
    .clk(clk), .rst(rst), .rxd(ftdi_txd),
    .m_axis_tdata(rx_tdata), .m_axis_tvalid(rx_tvalid), .frame_error()
);

/* verilator lint_on PINCONNECTEMPTY */

uart_tx #(.CLK_HZ(CLK_HZ), .BAUD(BAUD)) utx (
    .clk(clk), .rst(rst),
    .s_axis_tdata(tx_tdata), .s_axis_tvalid(tx_tvalid), .s_axis_tready(tx_tready),
    .txd(ftdi_rxd), .busy(tx_busy)
);

board_proto #(
    .C(C), .H(H), .W(W), .BITS(BITS), .IN_W(IN_W), .OUT_W(OUT_W), .CLASS_W(CLASS_W),
    .LOGIT_W(LOGIT_W), .K(K), .CLK_HZ(CLK_HZ), .BAUD(BAUD), .TIMEOUT_BITS(TIMEOUT_BITS),
    .BUNDLE_SHA256(BUNDLE_SHA256)
) proto (
    .clk(clk), .rst(rst),
    .rx_tdata(rx_tdata), .rx_tvalid(rx_tvalid),
    .tx_tdata(tx_tdata), .tx_tvalid(tx_tvalid), .tx_tready(tx_tready),
    .m_axis_tdata(in_tdata), .m_axis_tvalid(in_tvalid), .m_axis_tready(in_tready),
    .m_axis_tlast(in_tlast),
    .s_axis_tdata(out_tdata), .s_axis_tvalid(out_tvalid), .s_axis_tready(out_tready),
    .s_axis_tlast(out_tlast),
    .busy(proto_busy), .last_class(last_class)
);

qgp_net net (
    .clk(clk), .rst(rst),
    .s_axis_tdata(in_tdata), .s_axis_tvalid(in_tvalid), .s_axis_tready(in_tready),
    .s_axis_tlast(in_tlast),
    .m_axis_tdata(out_tdata), .m_axis_tvalid(out_tvalid), .m_axis_tready(out_tready),
    .m_axis_tlast(out_tlast)
);

// the class on led[5:0] (zero above CLASS_W; its low 6 bits if CLASS_W > 6)
wire [5:0] class_led;
generate
    if (CLASS_W >= 6) begin : g_led_wide
        assign class_led = last_class[5:0];
        if (CLASS_W > 6) begin : g_led_unused
            // verilator lint_off UNUSEDSIGNAL
            wire [CLASS_W-1:0] unused_class = last_class;
            // verilator lint_on UNUSEDSIGNAL
        end
    end else begin : g_led_narrow
        assign class_led = {{(6 - CLASS_W){1'b0}}, last_class};
    end
endgenerate
assign led = {locked, proto_busy || tx_busy, class_led};

endmodule
`default_nettype wire
