// rom_sync: a ROM ($readmemh file) with a synchronous read, optionally through a second
// register, as a block RAM's output register (DP16KD REGMODE OUTREG): the conv cores' weight,
// tap and threshold ROMs.
//
//   OUTREG = 0: q = the word at addr of the last clock with ce = 1 (the memory's read register)
//   OUTREG = 1: the memory's read register r = the word at addr of the last clock with ce = 1,
//               and q loads r in every clock with load = 1 (a register in fabric: no block RAM
//               output, 5.8 ns clock-to-out on an ECP5 without its output register, drives
//               logic); load[s] loads slice s of the word (LOADS slices of ceil(W / LOADS) bits,
//               the last one shorter): copies of one enable, each driving a part of the word
//
// Parameters:
//   W       word bits (default 8)
//   DEPTH   words, >= 1 (default 2)
//   AW      address bits, 2^AW >= DEPTH (default 1)
//   FILE    $readmemh file of DEPTH words (default "": every word 0)
//   STYLE   synthesis memory style: "auto" (the tool decides), "block", "distributed"; written
//           as the memory's ram_style attribute (read by synthesis only) (default "auto")
//   OUTREG  0 / 1 (default 0)
//   LOADS   slices of q with their own load (>= 1, <= W) (default 1)
// Ports:
//   clk; addr[AW-1:0] (an address >= DEPTH reads an unspecified word); ce (read enable);
//   load[LOADS-1:0] (OUTREG = 1);
//   q[W-1:0] (OUTREG = 1: 0 at power-up). No reset: a caller primes the registers
//   (conv_pipe rom_addr / rom_load, th_addr).
`timescale 1ns / 1ps
`default_nettype none
module rom_sync #(
    parameter W = 8,
    parameter DEPTH = 2,
    parameter AW = 1,
    parameter FILE = "",
    /* verilator lint_off UNUSEDPARAM */
    parameter STYLE = "auto",
    /* verilator lint_on UNUSEDPARAM */
    parameter OUTREG = 0,
    parameter LOADS = 1
) (
    input  wire          clk,
    input  wire [AW-1:0] addr,
    input  wire          ce,
    /* verilator lint_off UNUSEDSIGNAL */  // OUTREG = 0: no second register
    input  wire [LOADS-1:0] load,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [W-1:0]  q
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (W < 1) begin : g_check_w_must_be_at_least_1
        W_must_be_at_least_1 W_must_be_at_least_1();
    end
    if (DEPTH < 1) begin : g_check_depth_must_be_at_least_1
        DEPTH_must_be_at_least_1 DEPTH_must_be_at_least_1();
    end
    if (AW < 1 || (1 << AW) < DEPTH) begin : g_check_aw_must_address_depth
        AW_must_address_DEPTH AW_must_address_DEPTH();
    end
    if (LOADS < 1 || (W >= 1 && LOADS > W)) begin : g_check_loads_must_be_1_to_w
        LOADS_must_be_1_to_W LOADS_must_be_1_to_W();
    end
    if (OUTREG != 0 && OUTREG != 1) begin : g_check_outreg_must_be_0_or_1
        OUTREG_must_be_0_or_1 OUTREG_must_be_0_or_1();
    end
endgenerate

(* ram_style = STYLE *) reg [W-1:0] mem [0:DEPTH-1];
reg [W-1:0] r;
generate
    if (FILE != "") begin : g_init
        initial begin
            $readmemh(FILE, mem);
        end
    end else begin : g_zero
        integer k;
        initial begin
            for (k = 0; k < DEPTH; k = k + 1) begin
                /* verilator lint_off WIDTHCONCAT */  // as q_reg's power-up zero below
                mem[k] = {W{1'b0}};
                /* verilator lint_on WIDTHCONCAT */
            end
        end
    end
endgenerate
always @(posedge clk) begin
    if (ce) begin
        r <= mem[addr];
    end
end
localparam SL = (W + LOADS - 1) / LOADS;   // bits per load slice

generate
    if (OUTREG != 0) begin : g_outreg
        // lint waiver: the power-up zero of a wide word (a folded core's ROM word: 10k bits and
        // more) is one replication past the linter's 8k-bit "probably wrong" heuristic: intended
        /* verilator lint_off WIDTHCONCAT */
        reg [W-1:0] q_reg = {W{1'b0}};
        /* verilator lint_on WIDTHCONCAT */
        genvar gs;
        for (gs = 0; gs < LOADS; gs = gs + 1) begin : g_slice
            localparam LO = gs * SL;
            localparam SW = (LO + SL <= W) ? SL : ((LO < W) ? W - LO : 1);
            if (LO < W) begin : g_bits
                always @(posedge clk) begin
                    if (load[gs]) begin
                        q_reg[LO +: SW] <= r[LO +: SW];
                    end
                end
            end
        end
        assign q = q_reg;
    end else begin : g_noreg
        assign q = r;
    end
endgenerate

endmodule
`default_nettype wire
