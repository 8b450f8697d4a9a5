// conv_layer: one conv layer of the network on a pixel stream:
//   axis_fifo (FIFO_DEPTH) -> window3x3 -> conv core (+ requant) -> axis_skid -> [maxpool2]
// (RING: window3x3_cols -> conv_qgp_ring)
// (axis_skid HALF, one register, when FOLD >= 2)
// with the core conv_qgp (DENSE = 0: a QGP layer) or conv_dense (DENSE = 1: the first layer).
// Computes golden.model.run_layer for a conv_qgp / conv_dense bundle layer.
//
// Parameters:
//   DENSE       0: conv_qgp core (TS_VEC / TS_FILE), 1: conv_dense core (W_FILE, WBITS) (default 0)
//   CI, CO      input / output channels (default 4, 4)
//   IN_BITS     input bits, unsigned (default 4; a QGP layer's input is the previous layer's
//               ABITS-bit output, the first layer's the 8-bit image)
//   WBITS       conv_dense weight bits, signed (default 8; unused by a QGP layer)
//   ABITS       output activation bits, unsigned (default 4)
//   W, H        input (= conv output) frame size (default 8 x 8); W, H even (>= 4) when POOL
//   ACC_W       accumulator width (bundle acc_bits) (default 10)
//   PE          output channels per cycle; FOLD = CO/PE cycles per pixel (default CO)
//   POOL        1: 2x2/2 max pool after the requant, output W/2 x H/2 (default 0)
//   FIFO_DEPTH  input FIFO entries, >= 2 (default 2); a folded layer fed by a pool needs about
//               one row of that pool's output (see rtl/gen/params.py)
//   TH_W        requant threshold width (rtl/gen/params.py: dense ACC_W + 1, QGP ACC_W + 2)
//   RING        1: a QGP layer keeps its windows in per-channel tap memories (window3x3_cols ->
//               conv_qgp_ring instead of window3x3 -> conv_qgp; FOLD > 1, rtl/gen/params.py
//               chooses FOLD >= 3, PE <= 4) (default 0)
//   TREE_REG    adder tree pipelining of the core: a register every TREE_REG levels (0: none)
//   EN_COPIES   copies of the core's pipeline enable (conv_pipe EN_COPIES) (default 1)
//   CREDIT      0: the core stalls on its output, a skid after it; >= 2: the core never stalls
//               and its CREDIT-entry output FIFO (conv_pipe CREDIT) takes the skid's place
//               (the same latency) (default 0; rtl/gen/params.py credit_depth)
//   RQ_REG      1: the requant's compares registered (requant REG; rtl/gen/params.py
//               requant_latency: one more cycle) (default 0)
//   TS_VEC / TS_FILE (QGP, FOLD 1 / > 1), WVEC / W_FILE (dense), TH_VEC / TH_FILE   weights and
//               requant thresholds (docs/INTERFACES.md), written by rtl/gen/params.py
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[CI*IN_BITS-1:0], s_axis_tvalid, s_axis_tready, s_axis_tlast   input pixels
//   m_axis_tdata[CO*ABITS-1:0], m_axis_tvalid, m_axis_tready, m_axis_tlast   output pixels
//   s_axis_tready comes from a register (FIFO not full).
// Latency: with input offered every clock and output always ready, a frame takes
//   H*W*FOLD + W + 6 + POOL + TLAT + RQ_REG cycles from the first input beat to the last output
//   beat (last output cycle - first input cycle): FIFO 1, window W+2, conv 3 + TLAT + RQ_REG
//   (after the last fold; TLAT = the core's adder tree register stages, rtl/gen/params.py
//   tree_latency; RQ_REG: requant_latency),
//   skid 1 (CREDIT: the core's output FIFO instead), pool 1. RING adds 5 (rtl/gen/params.py ring_latency): the column before
//   a frame's first window and that window's own column take 3 clocks each to write (the
//   columns no window uses inside the frame are dropped at once).
`timescale 1ns / 1ps
`default_nettype none
module conv_layer #(
    parameter DENSE = 0,
    parameter CI = 4,
    parameter CO = 4,
    parameter IN_BITS = 4,
    parameter WBITS = 8,
    parameter ABITS = 4,
    parameter W = 8,
    parameter H = 8,
    parameter ACC_W = 10,
    parameter PE = CO,
    parameter POOL = 0,
    parameter FIFO_DEPTH = 2,
    parameter TH_W = (DENSE != 0) ? ACC_W + 1 : ACC_W + 2,
    parameter TREE_REG = 0,
    parameter EN_COPIES = 1,
    parameter CREDIT = 0,
    parameter RQ_REG = 0,
    parameter [CO*CI*5-1:0] TS_VEC = 0,
    parameter TS_FILE = "",
    parameter [CO*CI*9*WBITS-1:0] WVEC = 0,
    parameter W_FILE = "",
    parameter [CO*(((1<<ABITS)-1)*TH_W+1)-1:0] TH_VEC = 0,
    parameter TH_FILE = "",
    parameter RING = 0,
    // synthesis memory styles ("auto", "block", "distributed"): the folded core's ROMs
    // (conv_qgp / conv_qgp_ring / conv_dense ROM_STYLE) and the window's row memories
    // (window3x3 / window3x3_cols LINE_RAM_STYLE)
    parameter ROM_STYLE = "auto",
    parameter LINE_RAM_STYLE = "auto"
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [CI*IN_BITS-1:0] s_axis_tdata,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,
    input  wire                  s_axis_tlast,
    output wire [CO*ABITS-1:0]   m_axis_tdata,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready,
    output wire                  m_axis_tlast
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (FIFO_DEPTH < 2) begin : g_check_fifo_depth_must_be_at_least_2
        FIFO_DEPTH_must_be_at_least_2 FIFO_DEPTH_must_be_at_least_2();
    end
    if (RING != 0 && DENSE != 0) begin : g_check_ring_needs_dense_0
        RING_needs_DENSE_0 RING_needs_DENSE_0();
    end
endgenerate

wire [CI*IN_BITS-1:0]   fifo_tdata;
wire                  fifo_tvalid, fifo_tready, fifo_tlast;
wire [CO*ABITS-1:0]   conv_tdata;
wire                  conv_tvalid, conv_tready, conv_tlast;
wire [CO*ABITS-1:0]   skid_tdata;
wire                  skid_tvalid, skid_tready, skid_tlast;

axis_fifo #(.DATA_W(CI*IN_BITS), .DEPTH(FIFO_DEPTH)) in_fifo (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid),
    .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast),
    .m_axis_tdata(fifo_tdata), .m_axis_tvalid(fifo_tvalid),
    .m_axis_tready(fifo_tready), .m_axis_tlast(fifo_tlast)
);

generate
    if (DENSE != 0 || RING == 0) begin : g_win
        wire [9*CI*IN_BITS-1:0] win_tdata;
        wire                    win_tvalid, win_tready, win_tlast;
        window3x3 #(.C(CI), .BITS(IN_BITS), .W(W), .H(H), .LINE_RAM_STYLE(LINE_RAM_STYLE)) win (
            .clk(clk), .rst(rst),
            .s_axis_tdata(fifo_tdata), .s_axis_tvalid(fifo_tvalid),
            .s_axis_tready(fifo_tready), .s_axis_tlast(fifo_tlast),
            .m_axis_tdata(win_tdata), .m_axis_tvalid(win_tvalid),
            .m_axis_tready(win_tready), .m_axis_tlast(win_tlast)
        );
        if (DENSE != 0) begin : g_dense
            conv_dense #(
                .CI(CI), .CO(CO), .IN_BITS(IN_BITS), .WBITS(WBITS), .ACC_W(ACC_W), .TH_W(TH_W),
                .PE(PE), .ABITS(ABITS), .TREE_REG(TREE_REG), .EN_COPIES(EN_COPIES), .CREDIT(CREDIT), .RQ_REG(RQ_REG),
                .WVEC(WVEC), .W_FILE(W_FILE), .TH_VEC(TH_VEC), .TH_FILE(TH_FILE),
                .ROM_STYLE(ROM_STYLE)
            ) conv (
                .clk(clk), .rst(rst),
                .s_axis_tdata(win_tdata), .s_axis_tvalid(win_tvalid),
                .s_axis_tready(win_tready), .s_axis_tlast(win_tlast),
                .m_axis_tdata(conv_tdata), .m_axis_tvalid(conv_tvalid),
                .m_axis_tready(conv_tready), .m_axis_tlast(conv_tlast)
            );
        end else begin : g_qgp
            conv_qgp #(
                .CI(CI), .CO(CO), .BITS(IN_BITS), .ACC_W(ACC_W), .TH_W(TH_W), .PE(PE),
                .ABITS(ABITS), .TREE_REG(TREE_REG), .EN_COPIES(EN_COPIES), .CREDIT(CREDIT), .RQ_REG(RQ_REG),
                .TS_VEC(TS_VEC), .TS_FILE(TS_FILE), .TH_VEC(TH_VEC), .TH_FILE(TH_FILE),
                .ROM_STYLE(ROM_STYLE)
            ) conv (
                .clk(clk), .rst(rst),
                .s_axis_tdata(win_tdata), .s_axis_tvalid(win_tvalid),
                .s_axis_tready(win_tready), .s_axis_tlast(win_tlast),
                .m_axis_tdata(conv_tdata), .m_axis_tvalid(conv_tvalid),
                .m_axis_tready(conv_tready), .m_axis_tlast(conv_tlast)
            );
        end
    end else begin : g_ring
        wire [3*CI*IN_BITS-1:0] col_tdata;
        wire col_win, col_padl, col_padr, col_ztop, col_zbot, col_need;
        wire col_tvalid, col_tready, col_tlast;
        window3x3_cols #(.C(CI), .BITS(IN_BITS), .W(W), .H(H),
                         .LINE_RAM_STYLE(LINE_RAM_STYLE)) win (
            .clk(clk), .rst(rst),
            .s_axis_tdata(fifo_tdata), .s_axis_tvalid(fifo_tvalid),
            .s_axis_tready(fifo_tready), .s_axis_tlast(fifo_tlast),
            .m_axis_tdata(col_tdata), .m_axis_win(col_win), .m_axis_padl(col_padl),
            .m_axis_padr(col_padr), .m_axis_ztop(col_ztop), .m_axis_zbot(col_zbot),
            .m_axis_need(col_need), .m_axis_tvalid(col_tvalid),
            .m_axis_tready(col_tready), .m_axis_tlast(col_tlast)
        );
        conv_qgp_ring #(
            .CI(CI), .CO(CO), .BITS(IN_BITS), .ACC_W(ACC_W), .TH_W(TH_W), .PE(PE),
            .ABITS(ABITS), .TREE_REG(TREE_REG), .EN_COPIES(EN_COPIES), .CREDIT(CREDIT), .RQ_REG(RQ_REG), .TS_FILE(TS_FILE), .TH_FILE(TH_FILE),
            .ROM_STYLE(ROM_STYLE)
        ) conv (
            .clk(clk), .rst(rst),
            .s_axis_tdata(col_tdata), .s_axis_win(col_win), .s_axis_padl(col_padl),
            .s_axis_padr(col_padr), .s_axis_ztop(col_ztop), .s_axis_zbot(col_zbot),
            .s_axis_need(col_need), .s_axis_tvalid(col_tvalid),
            .s_axis_tready(col_tready), .s_axis_tlast(col_tlast),
            .m_axis_tdata(conv_tdata), .m_axis_tvalid(conv_tvalid),
            .m_axis_tready(conv_tready), .m_axis_tlast(conv_tlast)
        );
    end
endgenerate

generate
    if (CREDIT == 0) begin : g_skid
        // a folded core puts out at most one pixel every FOLD >= 2 clocks: one register is enough
        axis_skid #(.DATA_W(CO*ABITS), .HALF((CO / PE >= 2) ? 1 : 0)) skid (
            .clk(clk), .rst(rst),
            .s_axis_tdata(conv_tdata), .s_axis_tvalid(conv_tvalid),
            .s_axis_tready(conv_tready), .s_axis_tlast(conv_tlast),
            .m_axis_tdata(skid_tdata), .m_axis_tvalid(skid_tvalid),
            .m_axis_tready(skid_tready), .m_axis_tlast(skid_tlast)
        );
    end else begin : g_noskid
        // the core's output FIFO: valid from a register, ready reaches only its credit count
        assign skid_tdata = conv_tdata;
        assign skid_tvalid = conv_tvalid;
        assign conv_tready = skid_tready;
        assign skid_tlast = conv_tlast;
    end
endgenerate

generate
    if (POOL != 0) begin : g_pool
        maxpool2 #(.C(CO), .BITS(ABITS), .W(W), .H(H)) pool (
            .clk(clk), .rst(rst),
            .s_axis_tdata(skid_tdata), .s_axis_tvalid(skid_tvalid),
            .s_axis_tready(skid_tready), .s_axis_tlast(skid_tlast),
            .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid),
            .m_axis_tready(m_axis_tready), .m_axis_tlast(m_axis_tlast)
        );
    end else begin : g_nopool
        assign m_axis_tdata = skid_tdata;
        assign m_axis_tvalid = skid_tvalid;
        assign skid_tready = m_axis_tready;
        assign m_axis_tlast = skid_tlast;
    end
endgenerate

endmodule
`default_nettype wire
