// window3x3: 3x3 sliding-window generator with zero padding, one pixel per clock.
//
// Parameters:
//   C         channels per pixel (default 1)
//   BITS      bits per channel value, unsigned (default 8)
//   W, H      frame width and height in pixels (default 28 x 28; W >= 2, H >= 2)
//   LINE_RAM  1: the two line delays are W-2 (COLS = 1: W) deep row memories (one per line, written and read
//             synchronously, so that synthesis maps them to LUT RAM or block RAM; needs W >= 4);
//             0: one flip-flop shift register; default 1 when W >= 4
//   COLS      0: window beats (below); 1: column beats, for a consumer that keeps the last
//             columns itself (conv_qgp RING): no 9-tap output register (default 0)
// Ports:
//   clk, rst (synchronous, active high)
//   s_axis_tdata[C*BITS-1:0]    pixel, channel c at [c*BITS +: BITS], raster order
//   s_axis_tvalid, s_axis_tready, s_axis_tlast (tlast on the frame's last pixel)
//   m_axis_tdata[9*C*BITS-1:0]  window of the pixel at (y, x): tap t = (dy+1)*3 + (dx+1)
//                               channel c at [(t*C + c)*BITS +: BITS]; taps outside the frame = 0
//   m_axis_tvalid, m_axis_tready, m_axis_tlast (tlast on the window of pixel (H-1, W-1))
//   COLS = 1: m_axis_tdata[3*C*BITS+5:0], one beat per shift: the column that entered the
//     window, entries 2W, W, 0 after the shift (rows dy = -1, 0, +1 of the window's dx = +1
//     column): row r = dy+1, channel c at [(r*C + c)*BITS +: BITS], not masked; then flags
//     [3*C*BITS +: 6] = {need, zbot, ztop, padr, padl, win}: win = the shift emitted a window (centre
//     entry valid), padl / padr = that window's centre is at x = 0 / x = W-1 (its dx = -1 / +1
//     column is outside the frame), ztop / zbot = the column's row dy = -1 / +1 is outside the
//     frame for every window that uses the column inside the frame (the row of entry W is 0 /
//     H-1); need = some window uses the column inside the frame (as its dx = +1 column: the
//     window of this shift, not at x = W-1; dx = 0: the next shift's window; dx = -1: the one
//     after, not at x = 0), so a consumer may drop a column without need (the frame's first
//     columns, those of flush bubbles); tlast on the column that emits the window of pixel
//     (H-1, W-1). The window of a win column is that column (dx = +1) and the two columns
//     before it (dx = 0, -1).
// Architecture:
//   a virtual shift register of 2W+3 pixel entries (entry 0 = newest), each with a valid bit;
//   the window centre is entry W+1; a (y, x) counter of the centre pixel selects the padding
//   mask. A shift happens on an accepted input beat, or on a bubble (invalid entry) when the
//   frame's tlast was the last beat accepted, fewer than W+1 shifts have happened since and no
//   input is valid: the last W+1 windows come out when the stream stops, and back-to-back frames
//   push them out with no stall. A shift is allowed only when the output register can take the
//   window (or the entry moving into the centre is invalid). The window is registered (m_axis_*
//   are registers). s_axis_tready depends combinationally on m_axis_tready.
//   Storage: the window after a shift reads entries 0 (the input beat), 1, 2, W, W+1, W+2, 2W,
//   2W+1 and 2W+2, i.e. the registers holding entries 0, 1, W-1, W, W+1, 2W-1, 2W, 2W+1 before
//   the shift. With LINE_RAM these eight are registers and entries 2..W-2 and W+2..2W-2 (the
//   two line delays) live in two memories of W-2 words that share one write and one read
//   pointer: each shift writes entry 1 (entry W+1) at the write pointer and loads entry W-1
//   (entry 2W-1) from the read pointer, the word written W-3 shifts earlier. Memory words never
//   written since power-up (or since a reset) reach the tap registers but only ever sit at taps
//   outside the frame, which the mask replaces by 0, exactly like the stale entries of the
//   shift register form. COLS = 1 with LINE_RAM: only the column's entries 0, W and 2W are
//   registers, the last two being the read registers of two memories of W words (each shift
//   writes entry 1 (entry W+1) and loads entry W (entry 2W), the word written W-1 shifts
//   earlier): 3 instead of 7 pixel registers; a stale row reaches the consumer only at rows
//   outside the frame (the ztop / zbot flags) or in columns without need.
// Latency: with input every clock and output always ready, the window of pixel p is valid
//   W+2 cycles after pixel p was accepted; a frame takes H*W + W + 1 cycles from the first
//   input beat to the last output beat (last output cycle - first input cycle = H*W + W + 1).
`timescale 1ns / 1ps
`default_nettype none
module window3x3 #(
    parameter C = 1,
    parameter BITS = 8,
    parameter W = 28,
    parameter H = 28,
    parameter LINE_RAM = (W >= 4) ? 1 : 0,
    parameter COLS = 0,
    // synthesis memory style of the two row memories (LINE_RAM): "auto" (the tool decides),
    // "block" (block RAM, without a read-during-write bypass: never needed, see g_ram),
    // "distributed"; written as the memories' ram_style attribute
    parameter LINE_RAM_STYLE = "auto"
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [C*BITS-1:0]     s_axis_tdata,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,
    input  wire                  s_axis_tlast,
    output wire [((COLS != 0) ? 3*C*BITS + 6 : 9*C*BITS)-1:0] m_axis_tdata,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready,
    output wire                  m_axis_tlast
);

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (C < 1) begin : g_check_c_must_be_at_least_1
        C_must_be_at_least_1 C_must_be_at_least_1();
    end
    if (BITS < 1) begin : g_check_bits_must_be_at_least_1
        BITS_must_be_at_least_1 BITS_must_be_at_least_1();
    end
    if (W < 2) begin : g_check_w_must_be_at_least_2
        W_must_be_at_least_2 W_must_be_at_least_2();
    end
    if (H < 2) begin : g_check_h_must_be_at_least_2
        H_must_be_at_least_2 H_must_be_at_least_2();
    end
    if (LINE_RAM != 0 && W < 4) begin : g_check_line_ram_needs_w_at_least_4
        LINE_RAM_needs_W_at_least_4 LINE_RAM_needs_W_at_least_4();
    end
endgenerate

localparam PB = C*BITS;          // bits per pixel
localparam N = 2*W + 3;          // virtual shift register entries
localparam CTR = W + 1;          // centre entry
localparam XW = $clog2(W);
localparam YW = $clog2(H);
localparam FW = $clog2(W + 2);
localparam [31:0] XMAX_32 = W - 1;
localparam [31:0] YMAX_32 = H - 1;
localparam [31:0] FLUSH_32 = W + 1;
localparam [XW-1:0] XMAX = XMAX_32[XW-1:0];
localparam [YW-1:0] YMAX = YMAX_32[YW-1:0];
localparam [FW-1:0] FLUSH = FLUSH_32[FW-1:0];

// valid bits of entries 0..CTR-1 (only the one about to enter the centre is read)
reg [CTR-1:0]  sr_valid_reg = {CTR{1'b0}}, sr_valid_next;
reg [YW-1:0]   ny_reg = {YW{1'b0}}, ny_next;    // coordinates of the next pixel to reach the centre
reg [XW-1:0]   nx_reg = {XW{1'b0}}, nx_next;
reg [FW-1:0]   flush_reg = {FW{1'b0}}, flush_next;

wire out_free;                   // the output register can take a beat this cycle
wire can_shift = out_free || (COLS == 0 && !sr_valid_reg[CTR-1]);
wire bubble = (flush_reg != {FW{1'b0}}) && !s_axis_tvalid;
wire shift = can_shift && (s_axis_tvalid || bubble);
wire emit = shift && sr_valid_reg[CTR-1];   // a valid pixel enters the centre: its window
wire at_last = (ny_reg == YMAX) && (nx_reg == XMAX);
// entry 0 after a shift: the input beat as it is, also on a bubble (no gating: one LUT per bit
// saved). A bubble's data only ever sits at taps below the frame's last row, which the mask
// replaces by 0, like the stale entries and unwritten memory words below.
wire [PB-1:0] in_pixel = s_axis_tdata;

// the nine window taps after this cycle's shift, before the padding mask: tap t at [t*PB +: PB]
// (COLS = 0); the column of entries 2W, W, 0 after the last shift, row r at [r*PB +: PB] (COLS = 1)
/* verilator lint_off UNUSEDSIGNAL */  // each output form reads one of the two
wire [9*PB-1:0] taps;
wire [3*PB-1:0] column;
/* verilator lint_on UNUSEDSIGNAL */

assign s_axis_tready = can_shift;

// no_rw_check of the row memories (g_ram) in block RAM: a row memory never reads the word it
// writes in the same cycle (the write pointer is the previous read pointer, D >= 2 words). Read
// by synthesis only (an attribute value); a string compares zero-extended.
/* verilator lint_off UNUSEDPARAM */
/* verilator lint_off WIDTH */
localparam NO_RW = (LINE_RAM_STYLE == "block") ? 1 : 0;
/* verilator lint_on WIDTH */
/* verilator lint_on UNUSEDPARAM */

generate
    if (LINE_RAM != 0) begin : g_ram
        // COLS = 0: W-2 words per line memory (entries 2..W-2 / W+2..2W-2) and the registers
        // of entries 0, 1, W-1, W, W+1, 2W-1, 2W, 2W+1; COLS = 1: W words per line memory and
        // only the three column entries 0, W, 2W as registers, W and 2W being the memories'
        // read registers
        localparam D = (COLS != 0) ? W : W - 2;     // words per line memory
        localparam AW = (D > 1) ? $clog2(D) : 1;
        localparam [31:0] ALAST_32 = D - 1;
        localparam [AW-1:0] ALAST = ALAST_32[AW-1:0];
        reg [PB-1:0] e0_reg = {PB{1'b0}};
        // ea_reg / eb_reg: the memories' read registers, no power-up value (like the memories)
        reg [PB-1:0] ea_reg, eb_reg;
        (* ram_style = LINE_RAM_STYLE, no_rw_check = NO_RW *)
        reg [PB-1:0] line_a [0:D-1];                // contents not initialised
        (* ram_style = LINE_RAM_STYLE, no_rw_check = NO_RW *)
        reg [PB-1:0] line_b [0:D-1];
        reg [AW-1:0] wr_ptr_reg = {AW{1'b0}}, wr_ptr_next;
        reg [AW-1:0] rd_ptr_reg = {{(AW-1){1'b0}}, 1'b1}, rd_ptr_next;
        // a word written at one shift is read into the read register D - 1 shifts later
        wire [PB-1:0] a_in, b_in;                   // the words written at this shift

        always @* begin
            wr_ptr_next = wr_ptr_reg;
            rd_ptr_next = rd_ptr_reg;
            if (shift) begin
                wr_ptr_next = rd_ptr_reg;
                rd_ptr_next = (rd_ptr_reg == ALAST) ? {AW{1'b0}} : rd_ptr_reg + 1'b1;
            end
        end

        always @(posedge clk) begin
            wr_ptr_reg <= wr_ptr_next;
            rd_ptr_reg <= rd_ptr_next;
            if (shift) begin
                e0_reg <= in_pixel;
                line_a[wr_ptr_reg] <= a_in;
                ea_reg <= line_a[rd_ptr_reg];
                line_b[wr_ptr_reg] <= b_in;
                eb_reg <= line_b[rd_ptr_reg];
            end
            if (rst) begin
                wr_ptr_reg <= {AW{1'b0}};
                rd_ptr_reg <= {{(AW-1){1'b0}}, 1'b1};
            end
        end

        if (COLS == 0) begin : g_tap8
            // entry 2 is written (e1 before the shift), ea = entry W-1; ea1 / ea2 = W / W+1,
            // entry W+2 written (ea2 before the shift), eb = entry 2W-1, eb1 / eb2 = 2W / 2W+1
            reg [PB-1:0] e1_reg = {PB{1'b0}};
            reg [PB-1:0] ea1_reg = {PB{1'b0}}, ea2_reg = {PB{1'b0}};
            reg [PB-1:0] eb1_reg = {PB{1'b0}}, eb2_reg = {PB{1'b0}};
            always @(posedge clk) begin
                if (shift) begin
                    e1_reg <= e0_reg;
                    ea1_reg <= ea_reg;
                    ea2_reg <= ea1_reg;
                    eb1_reg <= eb_reg;
                    eb2_reg <= eb1_reg;
                end
            end
            assign a_in = e1_reg;
            assign b_in = ea2_reg;
            // tap 8 (dy = dx = +1) is entry 0 after the shift, tap 0 (dy = dx = -1) entry 2W+2
            assign taps = {in_pixel, e0_reg, e1_reg, ea_reg, ea1_reg, ea2_reg, eb_reg, eb1_reg,
                           eb2_reg};
            assign column = {e0_reg, ea1_reg, eb1_reg};
        end else begin : g_col3
            // entry 1 is written (e0 before the shift), ea = entry W; entry W+1 written,
            // eb = entry 2W
            assign a_in = e0_reg;
            assign b_in = ea_reg;
            assign taps = {9*PB{1'b0}};
            assign column = {e0_reg, ea_reg, eb_reg};
        end
    end else begin : g_reg
        // lint waiver: the power-up zero fill of the whole shift register is one replication
        // that exceeds the linter's 8k-bit "probably wrong" heuristic for wide layers: intended
        /* verilator lint_off WIDTHCONCAT */
        reg [(N-1)*PB-1:0] sr_data_reg = {(N-1)*PB{1'b0}};   // entries 0..N-2
        /* verilator lint_on WIDTHCONCAT */

        always @(posedge clk) begin
            if (shift) begin
                sr_data_reg <= {sr_data_reg[(N-2)*PB-1:0], in_pixel};
            end
        end

        genvar t;
        for (t = 0; t < 9; t = t + 1) begin : g_tap
            // entry k after the shift = entry k-1 before it (entry 0 = the input beat)
            localparam K = CTR - ((t / 3 - 1) * W + (t % 3 - 1));
            if (K == 0) begin : g_in
                assign taps[t*PB +: PB] = in_pixel;
            end else begin : g_sr
                assign taps[t*PB +: PB] = sr_data_reg[(K-1)*PB +: PB];
            end
        end
        assign column = {sr_data_reg[0 +: PB], sr_data_reg[W*PB +: PB], sr_data_reg[2*W*PB +: PB]};
    end
endgenerate

// the centre coordinates: advance with every window
always @* begin
    sr_valid_next = sr_valid_reg;
    ny_next = ny_reg;
    nx_next = nx_reg;
    flush_next = flush_reg;
    if (shift) begin
        sr_valid_next = {sr_valid_reg[CTR-2:0], s_axis_tvalid};
        if (s_axis_tvalid) begin
            flush_next = s_axis_tlast ? FLUSH : {FW{1'b0}};
        end else begin
            flush_next = flush_reg - 1'b1;
        end
        if (sr_valid_reg[CTR-1]) begin
            if (nx_reg == XMAX) begin
                nx_next = {XW{1'b0}};
                ny_next = (ny_reg == YMAX) ? {YW{1'b0}} : ny_reg + 1'b1;
            end else begin
                nx_next = nx_reg + 1'b1;
            end
        end
    end
end

always @(posedge clk) begin
    sr_valid_reg <= sr_valid_next;
    ny_reg <= ny_next;
    nx_reg <= nx_next;
    flush_reg <= flush_next;
    if (rst) begin
        sr_valid_reg <= {CTR{1'b0}};
        ny_reg <= {YW{1'b0}};
        nx_reg <= {XW{1'b0}};
        flush_reg <= {FW{1'b0}};
    end
end

generate
    if (COLS == 0) begin : g_win
        /* verilator lint_off WIDTHCONCAT */
        reg [9*PB-1:0] m_axis_tdata_reg = {9*PB{1'b0}}, m_axis_tdata_next;   // 9 x 1,024 bits for 256 channels
        /* verilator lint_on WIDTHCONCAT */
        reg            m_axis_tvalid_reg = 1'b0, m_axis_tvalid_next;
        reg            m_axis_tlast_reg = 1'b0, m_axis_tlast_next;
        reg [8:0]      clear;   // taps of the output register set to 0: outside the frame, or reset
        integer        t;
        reg            in_y, in_x;

        assign out_free = !m_axis_tvalid_reg || m_axis_tready;
        assign m_axis_tdata = m_axis_tdata_reg;
        assign m_axis_tvalid = m_axis_tvalid_reg;
        assign m_axis_tlast = m_axis_tlast_reg;

        always @* begin
            t = 0;
            in_y = 1'b0;
            in_x = 1'b0;
            clear = {9{rst}};
            m_axis_tdata_next = m_axis_tdata_reg;
            m_axis_tvalid_next = m_axis_tvalid_reg && !m_axis_tready;
            m_axis_tlast_next = m_axis_tlast_reg;
            if (emit) begin
                for (t = 0; t < 9; t = t + 1) begin
                    in_y = !((t / 3 == 0) && (ny_reg == {YW{1'b0}})) && !((t / 3 == 2) && (ny_reg == YMAX));
                    in_x = !((t % 3 == 0) && (nx_reg == {XW{1'b0}})) && !((t % 3 == 2) && (nx_reg == XMAX));
                    m_axis_tdata_next[t*PB +: PB] = taps[t*PB +: PB];
                    clear[t] = rst || !(in_y && in_x);
                end
                m_axis_tvalid_next = 1'b1;
                m_axis_tlast_next = at_last;
            end
            // zeroing last, as its own condition per tap: synthesis maps it to the flip-flops'
            // synchronous reset (one shared signal per tap) instead of a gate per bit
            for (t = 0; t < 9; t = t + 1) begin
                if (clear[t]) begin
                    m_axis_tdata_next[t*PB +: PB] = {PB{1'b0}};
                end
            end
        end

        always @(posedge clk) begin
            m_axis_tdata_reg <= m_axis_tdata_next;
            m_axis_tvalid_reg <= m_axis_tvalid_next;
            m_axis_tlast_reg <= m_axis_tlast_next;
            if (rst) begin
                // m_axis_tdata_reg: cleared through m_axis_tdata_next (clear)
                m_axis_tvalid_reg <= 1'b0;
                m_axis_tlast_reg <= 1'b0;
            end
        end
    end else begin : g_col
        // the column is the storage's own registers (held until the next shift); the beat's
        // flags and handshake are registered here
        reg       m_axis_tvalid_reg = 1'b0;
        reg       m_axis_tlast_reg = 1'b0;
        reg [5:0] flags_reg = 6'd0;                // {need, zbot, ztop, padr, padl, win}
        // the windows of this shift (e1) and of the next two (e2, e3) and where they are
        wire e1 = sr_valid_reg[CTR-1];
        wire e2 = sr_valid_reg[CTR-2];
        wire e3 = sr_valid_reg[CTR-3];
        wire need = e2 || (e1 && nx_reg != XMAX) || (e3 && !e1 && nx_reg != {XW{1'b0}});

        assign out_free = !m_axis_tvalid_reg || m_axis_tready;
        assign m_axis_tdata = {flags_reg, column};
        assign m_axis_tvalid = m_axis_tvalid_reg;
        assign m_axis_tlast = m_axis_tlast_reg;

        always @(posedge clk) begin
            if (m_axis_tready) begin
                m_axis_tvalid_reg <= 1'b0;
            end
            if (shift) begin
                m_axis_tvalid_reg <= 1'b1;
                m_axis_tlast_reg <= emit && at_last;
                // rows of the column: entry W is pixel (ny_next, .) (the next centre)
                flags_reg <= {need, ny_next == YMAX, ny_next == {YW{1'b0}}, nx_reg == XMAX,
                              nx_reg == {XW{1'b0}}, sr_valid_reg[CTR-1]};
            end
            if (rst) begin
                m_axis_tvalid_reg <= 1'b0;
                m_axis_tlast_reg <= 1'b0;
                flags_reg <= 6'd0;
            end
        end
    end
endgenerate

endmodule
`default_nettype wire
