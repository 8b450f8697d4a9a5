// conv_qgp: QGP 3x3 convolution (one tap + one sign per (out, in) channel pair) fused with
// per-channel requantization, on a stream of 3x3 windows.
//
//   acc[o] = sum_i (-1)^sign[o,i] * win[tap[o,i]][i]     (golden.model.conv_qgp_acc)
//   y[o]   = clamp((acc[o]*m[o] + b[o]) >>> shift, 0, 2^ABITS-1)   (golden.model.requant),
//            computed as the number of thresholds passed (golden/thresholds.py, requant.v)
// The adder trees sum acc[o] - nneg[o] (nneg = number of negative signs of channel o: the sign
// is a ones' complement, qgp_lane) in SW = ACC_W + 1 bits, and the thresholds are golden's
// minus nneg[o] (rtl/gen/params.py), so every comparison is the same as golden's on acc[o].
//
// Parameters:
//   CI, CO    input / output channels (default 4, 4)
//   BITS      input activation bits, unsigned (default 4)
//   ACC_W     accumulator width, signed (bundle acc_bits) (default 10)
//   TH_W      threshold width, signed (golden.thresholds.threshold_bits(ACC_W) + 1 = ACC_W + 2:
//             a threshold minus nneg) (default 12)
//   PE        output channels computed per cycle; CO % PE == 0; FOLD = CO/PE cycles per window
//   ABITS     output activation bits (default 4)
//   TREE_REG  adder tree pipelining: a register every TREE_REG levels (adder_tree REG_EVERY;
//             0 = none) (default 0)
//   EN_COPIES copies of the pipeline enable (conv_pipe EN_COPIES) (default 1)
//   CREDIT    0: the pipeline stalls on the output; >= 2: it never stalls, its output goes
//             through a CREDIT-entry FIFO (conv_pipe CREDIT: one cycle more latency) (default 0)
//   RQ_REG    1: the requant's compares registered (requant REG; rtl/gen/params.py
//             requant_latency: one more cycle) (default 0)
//   TS_VEC    FOLD == 1: the taps and signs as a constant, CO*CI*5 bits: channel o at
//             [o*CI*5 +: CI*5], its input channel i at [i*5 +: 5] = {sign, tap}
//   TS_FILE   FOLD > 1: $readmemh file, FOLD words of PE*CI*5 bits: word f, lane p at
//             [p*CI*5 +: CI*5] is output channel o = f*PE + p (laid out as in TS_VEC)
//   TH_VEC    FOLD == 1: the requant words as a constant, CO*(NT*TH_W+1) bits: channel o at
//             [o*(NT*TH_W+1) +: NT*TH_W+1] (the word below)
//   TH_FILE   FOLD > 1: $readmemh file, FOLD words of PE*(NT*TH_W+1) bits (NT = 2^ABITS - 1): word f,
//             lane p at [p*(NT*TH_W+1) +: NT*TH_W+1] = channel f*PE + p's requant word
//             {neg, T[NT], ..., T[1]} (requant.v)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[9*CI*BITS-1:0]  window (layout: window_unpack), as from window3x3;
//                                s_axis_tvalid, s_axis_tready, s_axis_tlast
//   m_axis_tdata[CO*ABITS-1:0]   output pixel, channel o at [o*ABITS +: ABITS];
//                                m_axis_tvalid, m_axis_tready, m_axis_tlast (tlast passed on)
// Architecture:
//   fold counter f = 0..FOLD-1 reads ROM word f; at FOLD == 1 the taps and signs are the
//   constant TS_VEC (qgp_lane CONST: the multiplexers are wires, the signs inversions, for
//   synthesis and simulators alike) and the one threshold word is read at a constant index
//   (the threshold compares become compares with constants);
//   per PE lane a qgp_lane (9:1 mux + sign per input channel) and an adder_tree over the CI
//   terms (TLAT = adder_tree LAT register stages) -> stage 1 register; PE requant threshold
//   units -> stage 2 register; the PE results of each fold are collected and the whole
//   CO-channel pixel is registered at the output (conv_pipe, shared with conv_dense). All but
//   the window register and the multiplexers is conv_qgp_core, shared with conv_qgp_ring (the
//   variant that keeps its windows in tap memories). A window
//   is held for FOLD cycles (s_axis_tready only on the last fold). The pipeline stalls as a
//   whole when the output register is full and not taken (s_axis_tready depends
//   combinationally on m_axis_tready).
// Latency: TLAT = LREG + ((TREE_REG > 0 && LV > 2) ? (LV - 2) / TREE_REG : 0), LREG = 1 when
//   FOLD > 1 and TREE_REG > 0 (the leaves registered: adder_tree LEAF_REG), with LV = clog2(CI)
//   (rtl/gen/params.py: tree_latency). The window accepted in cycle t (its last fold) is on the
//   output in cycle t+3+TLAT+RQ_REG+C (C = 1 when
//   CREDIT > 0, else 0); a stream of P windows offered every clock with the output
//   always ready takes P*FOLD + 2 + TLAT + RQ_REG + C cycles from the first window offered (tvalid)
//   to the last output beat; the first window is accepted FOLD-1 cycles after it is offered.
`timescale 1ns / 1ps
`default_nettype none
module conv_qgp #(
    parameter CI = 4,
    parameter CO = 4,
    parameter BITS = 4,
    parameter ACC_W = 10,
    parameter TH_W = 12,
    parameter PE = 4,
    parameter ABITS = 4,
    parameter TREE_REG = 0,
    parameter EN_COPIES = 1,
    parameter CREDIT = 0,
    parameter RQ_REG = 0,
    parameter [CO*CI*5-1:0] TS_VEC = 0,
    parameter TS_FILE = "",
    parameter [CO*(((1<<ABITS)-1)*TH_W+1)-1:0] TH_VEC = 0,
    parameter TH_FILE = "",
    // synthesis memory style of the folded core's ROMs: "auto" (the tool decides), "block",
    // "distributed"; written as their ram_style attribute (read by synthesis only)
    parameter ROM_STYLE = "auto"
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire [9*CI*BITS-1:0]   s_axis_tdata,
    input  wire                   s_axis_tvalid,
    output wire                   s_axis_tready,
    input  wire                   s_axis_tlast,
    output wire [CO*ABITS-1:0]    m_axis_tdata,
    output wire                   m_axis_tvalid,
    input  wire                   m_axis_tready,
    output wire                   m_axis_tlast
);

localparam TW = BITS + 1;                        // a signed term x or ~x
localparam FOLD = (PE >= 1) ? CO / PE : 1;       // the core checks PE

/* verilator lint_off UNUSEDSIGNAL */  // FOLD == 1: the taps are the constant TS_VEC
wire [PE*CI*5-1:0]  ts_word;
/* verilator lint_on UNUSEDSIGNAL */
wire [PE*CI*TW-1:0] term;          // lane p, input channel i at [(p*CI + i)*TW +: TW]
conv_qgp_core #(.CI(CI), .CO(CO), .BITS(BITS), .ACC_W(ACC_W), .TH_W(TH_W), .PE(PE),
                .ABITS(ABITS), .TREE_REG(TREE_REG), .EN_COPIES(EN_COPIES), .CREDIT(CREDIT), .RQ_REG(RQ_REG), .TS_VEC(TS_VEC), .TS_FILE(TS_FILE),
                .TH_VEC(TH_VEC), .TH_FILE(TH_FILE), .ROM_STYLE(ROM_STYLE)) core (
    .clk(clk), .rst(rst),
    .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast),
    .ts(ts_word), .term(term),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

// the window, channel-major; per lane a 9:1 multiplexer and a sign per input channel
wire [9*CI*BITS-1:0] x;
window_unpack #(.CI(CI), .BITS(BITS)) unpack (.win(s_axis_tdata), .x(x));
genvar gp;
generate
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_lane
        qgp_lane #(.CI(CI), .BITS(BITS), .CONST(FOLD == 1 ? 1 : 0),
                   .TS(TS_VEC[gp*CI*5 +: CI*5])) lane (
            .x(x), .ts(ts_word[gp*CI*5 +: CI*5]), .term(term[gp*CI*TW +: CI*TW])
        );
    end
endgenerate

endmodule
`default_nettype wire
