// EHXPLLL: behavioural simulation model of the ECP5 PLL for the board tops (Verilator and
// Icarus simulations without a real oscillator).
// Simulation time is counted in the PLL's output clock: CLKOP follows CLKI (the testbench drives
// CLKI at the output frequency, i.e. treats each CLKI cycle as one cycle of
// 25 MHz * CLKFB_DIV / CLKI_DIV), LOCK rises after LOCK_CYCLES cycles of CLKI. Other outputs are
// low. The divider settings are checked against the data sheet's ranges (input divider 1..128,
// PFD 3.125..400 MHz for a 25 MHz input, VCO 400..800 MHz), so a simulated board top carries
// dividers the real PLL accepts.
`timescale 1ns / 1ps
`default_nettype none
// the phase, enable and mux settings are accepted and not modelled
/* verilator lint_off UNUSEDPARAM */
module EHXPLLL #(
    parameter integer CLKI_DIV = 1,
    parameter integer CLKFB_DIV = 1,
    parameter integer CLKOP_DIV = 8,
    parameter integer CLKOS_DIV = 8,
    parameter integer CLKOS2_DIV = 8,
    parameter integer CLKOS3_DIV = 8,
    parameter integer CLKOP_CPHASE = 0,
    parameter integer CLKOS_CPHASE = 0,
    parameter integer CLKOS2_CPHASE = 0,
    parameter integer CLKOS3_CPHASE = 0,
    parameter integer CLKOP_FPHASE = 0,
    parameter integer CLKOS_FPHASE = 0,
    parameter integer CLKOS2_FPHASE = 0,
    parameter integer CLKOS3_FPHASE = 0,
    parameter FEEDBK_PATH = "CLKOP",
    parameter CLKOP_ENABLE = "ENABLED",
    parameter CLKOS_ENABLE = "DISABLED",
    parameter CLKOS2_ENABLE = "DISABLED",
    parameter CLKOS3_ENABLE = "DISABLED",
    parameter OUTDIVIDER_MUXA = "DIVA",
    parameter OUTDIVIDER_MUXB = "DIVB",
    parameter OUTDIVIDER_MUXC = "DIVC",
    parameter OUTDIVIDER_MUXD = "DIVD",
    parameter INTFB_WAKE = "DISABLED",
    parameter STDBY_ENABLE = "DISABLED",
    parameter PLLRST_ENA = "DISABLED",
    parameter DPHASE_SOURCE = "DISABLED",
    parameter integer PLL_LOCK_MODE = 0,
    parameter integer LOCK_CYCLES = 16
) (
/* verilator lint_on UNUSEDPARAM */
    input  wire CLKI,
    input  wire CLKFB,
    input  wire PHASESEL1,
    input  wire PHASESEL0,
    input  wire PHASEDIR,
    input  wire PHASESTEP,
    input  wire PHASELOADREG,
    input  wire STDBY,
    input  wire PLLWAKESYNC,
    input  wire RST,
    input  wire ENCLKOP,
    input  wire ENCLKOS,
    input  wire ENCLKOS2,
    input  wire ENCLKOS3,
    output wire CLKOP,
    output wire CLKOS,
    output wire CLKOS2,
    output wire CLKOS3,
    output wire LOCK,
    output wire INTLOCK,
    output wire REFCLK,
    output wire CLKINTFB
);

localparam integer FIN_KHZ = 25000;
localparam integer FOUT_KHZ = FIN_KHZ * CLKFB_DIV / CLKI_DIV;
localparam integer VCO_KHZ = FOUT_KHZ * CLKOP_DIV;

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (CLKI_DIV < 1 || CLKI_DIV > 128 || CLKFB_DIV < 1 || CLKFB_DIV > 128 || CLKOP_DIV < 1 || CLKOP_DIV > 128) begin : g_check_ehxplll_dividers_must_be_1_to_128
        EHXPLLL_dividers_must_be_1_to_128 EHXPLLL_dividers_must_be_1_to_128();
    end
    if (FIN_KHZ / CLKI_DIV < 3125) begin : g_check_ehxplll_pfd_must_be_at_least_3125_khz
        EHXPLLL_PFD_must_be_at_least_3125_kHz EHXPLLL_PFD_must_be_at_least_3125_kHz();
    end
    if (VCO_KHZ < 400000 || VCO_KHZ > 800000) begin : g_check_ehxplll_vco_must_be_400_to_800_mhz
        EHXPLLL_VCO_must_be_400_to_800_MHz EHXPLLL_VCO_must_be_400_to_800_MHz();
    end
endgenerate

reg [7:0] lock_cnt = 8'd0;
always @(posedge CLKI) begin
    if (RST) lock_cnt <= 8'd0;
    else if (lock_cnt != LOCK_CYCLES[7:0]) lock_cnt <= lock_cnt + 8'd1;
end

assign CLKOP = CLKI;
assign CLKOS = 1'b0;
assign CLKOS2 = 1'b0;
assign CLKOS3 = 1'b0;
assign LOCK = (lock_cnt == LOCK_CYCLES[7:0]);
assign INTLOCK = LOCK;
assign REFCLK = CLKI;
assign CLKINTFB = 1'b0;

// verilator lint_off UNUSEDSIGNAL
wire unused = &{1'b0, CLKFB, PHASESEL1, PHASESEL0, PHASEDIR, PHASESTEP, PHASELOADREG, STDBY,
                PLLWAKESYNC, ENCLKOP, ENCLKOS, ENCLKOS2, ENCLKOS3};
// verilator lint_on UNUSEDSIGNAL

endmodule
`default_nettype wire
