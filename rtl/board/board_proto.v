// board_proto: the framed UART protocol of a board top (docs/BOARD.md) around the generated
// network: requests come in as bytes from uart_rx, images go to the network's input stream,
// the network's results and the other answers go out as bytes to uart_tx.
//
// Parameters (the network's from its qgp_net.json, set by the board build):
//   C, H, W, BITS   input channels, height, width, bits per channel (one byte per channel on
//                   the link: the low BITS bits)
//   IN_W            the network's s_axis_tdata width (channel c at [c*BITS +: BITS])
//   OUT_W, CLASS_W, LOGIT_W, K   the output beat: class in [CLASS_W-1:0], logit k (signed) at
//                   [CLASS_W + k*LOGIT_W +: LOGIT_W]
//   CLK_HZ, BAUD    reported by the identify answer; CLK_HZ / BAUD also times the truncation
//   TIMEOUT_BITS    a frame with no byte for this many bit times is dropped (truncated)
//   BUNDLE_SHA256   sha256 of the bundle's model.json (the identify answer)
//   TAG_DEPTH       images that may be in the network at once (power of two)
// Ports:
//   clk, rst (synchronous, active high)
//   rx_tdata, rx_tvalid              bytes from uart_rx (taken every cycle they are valid)
//   tx_tdata, tx_tvalid, tx_tready   bytes to uart_tx
//   m_axis_*                         to the network's input stream
//   s_axis_*                         from the network's output stream
//   busy                             anything in flight (a frame, an image, an answer)
//   last_class                       class of the last image answered
// Behaviour:
//   Requests: A5 5A, a type byte, its payload, checksum bytes A = sum of the bytes from the type
//   byte on (mod 256) and B = sum of the running A after each byte (mod 256).
//     01 image: id (2 bytes, little endian), C*H*W pixel bytes (raster order, channels of a pixel
//        together) -> 81 answer: id, class, K logits of ceil(LOGIT_W/8) bytes (signed, LE)
//     02 identify -> 82 answer: sha256 (32 bytes), C, H (2), W (2), K, LOGIT_W, CLASS_W,
//        CLK_HZ (4), BAUD (4)
//     03 bench: N (4 bytes) -> the last accepted image N times back to back through the network,
//        83 answer: N (4), cycles from the start of its stream to its N-th result (6 bytes)
//     error answer 8F: code, id (2): 1 checksum, 2 unknown type, 3 truncated (no byte for
//        TIMEOUT_BITS bit times), 4 busy (no free image buffer / queue slot), 5 bench without an
//        image, 6 bench of 0 images
//   Every answer: A5 5A, type, payload, checksum A, B (over type and payload).
//   Resynchronization: outside a frame every byte is scanned for A5 5A; a frame with a bad type
//   restarts the scan at its type byte; a dropped frame restarts it after the frame.
//   Two image buffers: a frame is received into the one that does not hold the last accepted
//   image, so a bad frame never spoils the image a bench repeats. An accepted image is queued
//   (2 jobs) and streamed into the network; its id waits in a tag FIFO for its result, so every
//   accepted image gets exactly one answer, in order.
`timescale 1ns / 1ps
`default_nettype none
module board_proto #(
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
    parameter TAG_DEPTH = 8
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [7:0]       rx_tdata,
    input  wire             rx_tvalid,
    output wire [7:0]       tx_tdata,
    output wire             tx_tvalid,
    input  wire             tx_tready,
    output wire [IN_W-1:0]  m_axis_tdata,
    output wire             m_axis_tvalid,
    input  wire             m_axis_tready,
    output wire             m_axis_tlast,
    input  wire [OUT_W-1:0] s_axis_tdata,
    input  wire             s_axis_tvalid,
    output wire             s_axis_tready,
    input  wire             s_axis_tlast,
    output wire             busy,
    output wire [CLASS_W-1:0] last_class
);

localparam integer NPIX = H * W * C;           // pixel bytes of a frame
localparam integer FRAME = H * W;              // input beats of an image
localparam integer AW = $clog2(NPIX);
localparam integer FW = $clog2(FRAME + 1);
localparam integer LB = (LOGIT_W + 7) / 8;     // bytes of a logit on the link
localparam integer RES_LEN = 6 + K * LB;
localparam integer ID_LEN = 51;
localparam integer BEN_LEN = 13;
localparam integer ERR_LEN = 6;
localparam integer MAXLEN = (RES_LEN > ID_LEN) ? RES_LEN : ID_LEN;
localparam integer LW = $clog2(MAXLEN + 1);
localparam integer CPB = (CLK_HZ + BAUD / 2) / BAUD;
localparam [39:0] TMO_CYCLES = TIMEOUT_BITS * CPB;
localparam integer FD = 1 << $clog2(C + 2);    // byte FIFO in front of the network
localparam integer FPW = $clog2(FD);
localparam integer TPW = $clog2(TAG_DEPTH);

// protocol constants (docs/BOARD.md; qgp/board/protocol.py holds the same, checked by a test)
localparam [7:0] MAGIC0 = 8'hA5, MAGIC1 = 8'h5A;
localparam [7:0] T_IMAGE = 8'h01, T_IDENT = 8'h02, T_BENCH = 8'h03;
localparam [7:0] A_RESULT = 8'h81, A_IDENT = 8'h82, A_BENCH = 8'h83, A_ERROR = 8'h8F;
localparam [7:0] E_CHECKSUM = 8'd1, E_TYPE = 8'd2, E_TRUNCATED = 8'd3, E_BUSY = 8'd4,
                 E_NOIMAGE = 8'd5, E_ARG = 8'd6;

// parameter checks: a broken rule instantiates a module named after it, which does not
// exist, so elaboration stops with the rule's name in every tool (Icarus, Verilator, yosys)
generate
    if (NPIX < 2 || H > 65535 || W > 65535) begin : g_check_frame_must_have_2_to_65535_pixels_per_side
        frame_must_have_2_to_65535_pixels_per_side frame_must_have_2_to_65535_pixels_per_side();
    end
    if (BITS < 1 || BITS > 8) begin : g_check_bits_must_be_1_to_8
        BITS_must_be_1_to_8 BITS_must_be_1_to_8();
    end
    if (IN_W < C * BITS) begin : g_check_in_w_must_hold_c_channels_of_bits
        IN_W_must_hold_C_channels_of_BITS IN_W_must_hold_C_channels_of_BITS();
    end
    if (CLASS_W < 1 || CLASS_W > 8) begin : g_check_class_w_must_be_1_to_8
        CLASS_W_must_be_1_to_8 CLASS_W_must_be_1_to_8();
    end
    if (K < 1 || K > 255) begin : g_check_k_must_be_1_to_255
        K_must_be_1_to_255 K_must_be_1_to_255();
    end
    if (LOGIT_W < 2 || LOGIT_W > 32) begin : g_check_logit_w_must_be_2_to_32
        LOGIT_W_must_be_2_to_32 LOGIT_W_must_be_2_to_32();
    end
    if (OUT_W < CLASS_W + K * LOGIT_W) begin : g_check_out_w_must_hold_the_class_and_k_logits
        OUT_W_must_hold_the_class_and_K_logits OUT_W_must_hold_the_class_and_K_logits();
    end
    if (CPB < 4) begin : g_check_clk_hz_over_baud_must_be_at_least_4
        CLK_HZ_over_BAUD_must_be_at_least_4 CLK_HZ_over_BAUD_must_be_at_least_4();
    end
    if (TIMEOUT_BITS < 32) begin : g_check_timeout_bits_must_be_at_least_32
        TIMEOUT_BITS_must_be_at_least_32 TIMEOUT_BITS_must_be_at_least_32();
    end
    if (TAG_DEPTH < 2 || (TAG_DEPTH & (TAG_DEPTH - 1)) != 0) begin : g_check_tag_depth_must_be_a_power_of_two_at_least_2
        TAG_DEPTH_must_be_a_power_of_two_at_least_2 TAG_DEPTH_must_be_a_power_of_two_at_least_2();
    end
endgenerate

// ------------------------------------------------------------------ image buffers
reg [7:0] mem [0:(2 << AW) - 1];
integer k;
initial begin
    for (k = 0; k < (2 << AW); k = k + 1) begin
        mem[k] = 8'd0;
    end
end

// ------------------------------------------------------------------ receive state machine
localparam [2:0] R_M0 = 3'd0, R_M1 = 3'd1, R_TYPE = 3'd2, R_HDR = 3'd3, R_PIX = 3'd4,
                 R_CKA = 3'd5, R_CKB = 3'd6;

reg [2:0]  rs_reg = R_M0, rs_next;
reg [7:0]  rtype_reg = 8'd0, rtype_next;
reg [31:0] hdr_reg = 32'd0, hdr_next;
reg [1:0]  hcnt_reg = 2'd0, hcnt_next;
reg [AW-1:0] pix_reg = {AW{1'b0}}, pix_next;
reg [7:0]  sa_reg = 8'd0, sa_next, sb_reg = 8'd0, sb_next;
reg        cka_ok_reg = 1'b0, cka_ok_next;
reg        wr_ok_reg = 1'b0, wr_ok_next;
reg        fill_buf_reg = 1'b0, fill_buf_next;
reg [39:0] tmo_reg = 40'd0, tmo_next;
reg        last_buf_reg = 1'b1, last_buf_next;   // the buffer of the last accepted image
reg        last_valid_reg = 1'b0, last_valid_next;

// answers waiting for the transmitter
reg        ident_pend_reg = 1'b0, ident_pend_next;
reg        err_pend_reg = 1'b0, err_pend_next;
reg [7:0]  err_code_reg = 8'd0, err_code_next;
reg [15:0] err_id_reg = 16'd0, err_id_next;
reg        bench_busy_reg = 1'b0, bench_busy_next;  // a bench accepted and not yet answered
reg [31:0] bench_n_reg = 32'd0, bench_n_next;
reg        bench_run_reg = 1'b0, bench_run_next;    // counting cycles
reg [47:0] bench_cyc_reg = 48'd0, bench_cyc_next;
reg [31:0] bench_out_reg = 32'd0, bench_out_next;
reg        bench_done_reg = 1'b0, bench_done_next;

// job queue (2 entries, entry 0 the oldest)
reg [1:0]  jq_v_reg = 2'b00, jq_v_next;
reg [1:0]  jq_bench_reg = 2'b00, jq_bench_next;
reg [1:0]  jq_buf_reg = 2'b00, jq_buf_next;
reg [15:0] jq_id0_reg = 16'd0, jq_id0_next, jq_id1_reg = 16'd0, jq_id1_next;

// feeder
reg        fd_active_reg = 1'b0, fd_active_next;
reg        fd_buf_reg = 1'b0, fd_buf_next;
reg [AW-1:0] fd_idx_reg = {AW{1'b0}}, fd_idx_next;
reg [31:0] fd_reps_reg = 32'd0, fd_reps_next;
reg [7:0]  rd_data_reg = 8'd0;
reg        rd_v_reg = 1'b0;
reg [7:0]  bf_mem [0:FD-1];
reg [FPW-1:0] bf_head_reg = {FPW{1'b0}}, bf_head_next;
reg [FPW:0] bf_count_reg = {(FPW + 1){1'b0}}, bf_count_next;
reg [FW-1:0] beat_reg = {FW{1'b0}}, beat_next;
initial begin
    for (k = 0; k < FD; k = k + 1) begin
        bf_mem[k] = 8'd0;
    end
end

// tag FIFO: {bench, id} per job in the network
reg [16:0] tag_mem [0:TAG_DEPTH-1];
reg [TPW-1:0] tag_head_reg = {TPW{1'b0}}, tag_head_next;
reg [TPW:0] tag_count_reg = {(TPW + 1){1'b0}}, tag_count_next;
initial begin
    for (k = 0; k < TAG_DEPTH; k = k + 1) begin
        tag_mem[k] = 17'd0;
    end
end

// composer
reg        c_active_reg = 1'b0, c_active_next;
reg [1:0]  c_phase_reg = 2'd0, c_phase_next;       // 0 payload, 1 checksum A, 2 checksum B
reg [LW-1:0] c_left_reg = {LW{1'b0}}, c_left_next;
reg [LW-1:0] c_idx_reg = {LW{1'b0}}, c_idx_next;
reg [8*MAXLEN-1:0] c_data_reg = {(8*MAXLEN){1'b0}}, c_data_next;
reg [7:0]  ca_reg = 8'd0, ca_next, cb_reg = 8'd0, cb_next;
reg [CLASS_W-1:0] last_class_reg = {CLASS_W{1'b0}}, last_class_next;

wire [7:0] b = rx_tdata;
wire [7:0] sa_b = sa_reg + b;

// buffer in use: being received into, streamed, or referenced by a queued job
function buf_used;
    input bsel;
    begin
        buf_used = (fd_active_reg && fd_buf_reg == bsel)
            || (jq_v_reg[0] && jq_buf_reg[0] == bsel) || (jq_v_reg[1] && jq_buf_reg[1] == bsel);
    end
endfunction

// ------------------------------------------------------------------ network input
wire [FPW:0] occupancy = bf_count_reg + {{FPW{1'b0}}, rd_v_reg};
localparam [31:0] FD_32 = FD;
wire rd_en = fd_active_reg && (occupancy < FD_32[FPW:0]);
wire [AW:0] rd_addr = {fd_buf_reg, fd_idx_reg};
wire [AW:0] wr_addr = {fill_buf_reg, pix_reg};
wire wr_en = rx_tvalid && rs_reg == R_PIX && wr_ok_reg;
wire in_fire = m_axis_tvalid && m_axis_tready;

reg [IN_W-1:0] in_data;
integer c;
always @* begin
    in_data = {IN_W{1'b0}};
    for (c = 0; c < C; c = c + 1) begin
        in_data[c*BITS +: BITS] = bf_mem[bf_head_reg + c[FPW-1:0]][BITS-1:0];
    end
end
localparam [31:0] BEAT_LAST_32 = FRAME - 1;
localparam [FW-1:0] BEAT_LAST = BEAT_LAST_32[FW-1:0];
localparam [31:0] C_BEAT_32 = C;
localparam [FPW:0] C_BEAT = C_BEAT_32[FPW:0];
assign m_axis_tdata = in_data;
assign m_axis_tvalid = (bf_count_reg >= C_BEAT);
assign m_axis_tlast = (beat_reg == BEAT_LAST);

always @(posedge clk) begin
    if (wr_en) mem[wr_addr] <= b;
    if (rd_en) rd_data_reg <= mem[rd_addr];
    rd_v_reg <= rd_en && !rst;
    if (rd_v_reg) bf_mem[bf_head_reg + bf_count_reg[FPW-1:0]] <= rd_data_reg;
end

// ------------------------------------------------------------------ network output
wire tag_empty = (tag_count_reg == 0);
wire [16:0] tag_head = tag_mem[tag_head_reg];
wire head_bench = tag_head[16];
wire res_take = !c_active_reg;   // the composer takes a result before anything else
assign s_axis_tready = tag_empty || head_bench || res_take;
wire out_fire = s_axis_tvalid && s_axis_tready;
wire res_fire = out_fire && !tag_empty && !head_bench;
wire bench_out_fire = out_fire && !tag_empty && head_bench;
wire pop_job = !fd_active_reg && jq_v_reg[0] && (tag_count_reg != TAG_DEPTH);
wire [TPW-1:0] tag_wr = tag_head_reg + tag_count_reg[TPW-1:0];

always @(posedge clk) begin
    if (pop_job) tag_mem[tag_wr] <= {jq_bench_reg[0], jq_id0_reg};
end

// result answer bytes (little endian vectors, byte 0 first on the line)
reg [8*MAXLEN-1:0] res_vec, id_vec, ben_vec, err_vec;
integer i, j;
always @* begin
    res_vec = {(8*MAXLEN){1'b0}};
    res_vec[7:0] = MAGIC0;
    res_vec[15:8] = MAGIC1;
    res_vec[23:16] = A_RESULT;
    res_vec[39:24] = tag_head[15:0];
    res_vec[40 +: CLASS_W] = s_axis_tdata[CLASS_W-1:0];
    for (i = 0; i < K; i = i + 1) begin
        for (j = 0; j < 8 * LB; j = j + 1) begin
            // sign-extended logit i, byte by byte
            res_vec[48 + i*8*LB + j] = s_axis_tdata[CLASS_W + i*LOGIT_W + ((j < LOGIT_W) ? j : LOGIT_W - 1)];
        end
    end
    id_vec = {(8*MAXLEN){1'b0}};
    id_vec[23:0] = {A_IDENT, MAGIC1, MAGIC0};
    for (i = 0; i < 32; i = i + 1) begin
        id_vec[24 + 8*i +: 8] = BUNDLE_SHA256[255 - 8*i -: 8];
    end
    id_vec[280 +: 8] = C[7:0];
    id_vec[288 +: 16] = H[15:0];
    id_vec[304 +: 16] = W[15:0];
    id_vec[320 +: 8] = K[7:0];
    id_vec[328 +: 8] = LOGIT_W[7:0];
    id_vec[336 +: 8] = CLASS_W[7:0];
    id_vec[344 +: 32] = CLK_HZ[31:0];
    id_vec[376 +: 32] = BAUD[31:0];
    ben_vec = {(8*MAXLEN){1'b0}};
    ben_vec[23:0] = {A_BENCH, MAGIC1, MAGIC0};
    ben_vec[24 +: 32] = bench_n_reg;
    ben_vec[56 +: 48] = bench_cyc_reg;
    err_vec = {(8*MAXLEN){1'b0}};
    err_vec[23:0] = {A_ERROR, MAGIC1, MAGIC0};
    err_vec[24 +: 8] = err_code_reg;
    err_vec[32 +: 16] = err_id_reg;
end

assign tx_tdata = (c_phase_reg == 2'd0) ? c_data_reg[7:0] : (c_phase_reg == 2'd1) ? ca_reg : cb_reg;
assign tx_tvalid = c_active_reg;
assign last_class = last_class_reg;
// tlast of the output beat: every beat is one image (one beat per image, tlast always set)
// verilator lint_off UNUSEDSIGNAL
wire unused_tlast = s_axis_tlast;
// verilator lint_on UNUSEDSIGNAL
assign busy = (rs_reg != R_M0) || (jq_v_reg != 2'b00) || fd_active_reg || rd_v_reg
    || (bf_count_reg != 0) || !tag_empty || c_active_reg || ident_pend_reg || err_pend_reg
    || bench_busy_reg;

localparam [31:0] L_RES_32 = RES_LEN, L_ID_32 = ID_LEN, L_BEN_32 = BEN_LEN, L_ERR_32 = ERR_LEN;
localparam [LW-1:0] L_RES = L_RES_32[LW-1:0], L_ID = L_ID_32[LW-1:0], L_BEN = L_BEN_32[LW-1:0],
                    L_ERR = L_ERR_32[LW-1:0];

always @* begin
    rs_next = rs_reg;
    rtype_next = rtype_reg;
    hdr_next = hdr_reg;
    hcnt_next = hcnt_reg;
    pix_next = pix_reg;
    sa_next = sa_reg;
    sb_next = sb_reg;
    cka_ok_next = cka_ok_reg;
    wr_ok_next = wr_ok_reg;
    fill_buf_next = fill_buf_reg;
    tmo_next = tmo_reg;
    last_buf_next = last_buf_reg;
    last_valid_next = last_valid_reg;
    ident_pend_next = ident_pend_reg;
    err_pend_next = err_pend_reg;
    err_code_next = err_code_reg;
    err_id_next = err_id_reg;
    bench_busy_next = bench_busy_reg;
    bench_n_next = bench_n_reg;
    bench_run_next = bench_run_reg;
    bench_cyc_next = bench_cyc_reg + {47'd0, bench_run_reg};
    bench_out_next = bench_out_reg;
    bench_done_next = bench_done_reg;
    jq_v_next = jq_v_reg;
    jq_bench_next = jq_bench_reg;
    jq_buf_next = jq_buf_reg;
    jq_id0_next = jq_id0_reg;
    jq_id1_next = jq_id1_reg;
    fd_active_next = fd_active_reg;
    fd_buf_next = fd_buf_reg;
    fd_idx_next = fd_idx_reg;
    fd_reps_next = fd_reps_reg;
    bf_head_next = bf_head_reg;
    bf_count_next = bf_count_reg + {{FPW{1'b0}}, rd_v_reg} - (in_fire ? C_BEAT : {(FPW + 1){1'b0}});
    beat_next = beat_reg;
    tag_head_next = tag_head_reg;
    tag_count_next = tag_count_reg;
    c_active_next = c_active_reg;
    c_phase_next = c_phase_reg;
    c_left_next = c_left_reg;
    c_idx_next = c_idx_reg;
    c_data_next = c_data_reg;
    ca_next = ca_reg;
    cb_next = cb_reg;
    last_class_next = last_class_reg;

    // --- network input: byte FIFO and beat counter
    if (in_fire) begin
        bf_head_next = bf_head_reg + C_BEAT[FPW-1:0];
        beat_next = (beat_reg == BEAT_LAST) ? {FW{1'b0}} : beat_reg + 1'b1;
    end

    // --- feeder: issue reads of the buffer being streamed
    if (rd_en) begin
        if (fd_idx_reg == NPIX[AW-1:0] - 1'b1) begin
            fd_idx_next = {AW{1'b0}};
            fd_reps_next = fd_reps_reg - 1'b1;
            if (fd_reps_reg == 32'd1) fd_active_next = 1'b0;
        end else begin
            fd_idx_next = fd_idx_reg + 1'b1;
        end
    end

    // --- job queue: pop into the feeder (the tag FIFO gets the job's tag)
    if (pop_job) begin
        fd_active_next = 1'b1;
        fd_buf_next = jq_buf_reg[0];
        fd_idx_next = {AW{1'b0}};
        fd_reps_next = jq_bench_reg[0] ? bench_n_reg : 32'd1;
        if (jq_bench_reg[0]) begin
            bench_run_next = 1'b1;
            bench_cyc_next = 48'd0;
            bench_out_next = 32'd0;
        end
        jq_v_next = {1'b0, jq_v_reg[1]};
        jq_bench_next = {1'b0, jq_bench_reg[1]};
        jq_buf_next = {1'b0, jq_buf_reg[1]};
        jq_id0_next = jq_id1_reg;
    end

    // --- network output
    if (res_fire || bench_out_fire) begin
        if (res_fire) begin
            tag_head_next = tag_head_reg + 1'b1;
            last_class_next = s_axis_tdata[CLASS_W-1:0];
        end else begin
            bench_out_next = bench_out_reg + 1'b1;
            if (bench_out_reg == bench_n_reg - 1'b1) begin
                tag_head_next = tag_head_reg + 1'b1;
                bench_run_next = 1'b0;
                bench_cyc_next = bench_cyc_reg + 1'b1;
                bench_done_next = 1'b1;
            end
        end
    end
    tag_count_next = tag_count_reg + {{TPW{1'b0}}, pop_job}
        - {{TPW{1'b0}}, (res_fire || (bench_out_fire && bench_out_reg == bench_n_reg - 1'b1))};

    // --- receive: timeout of a frame in progress
    if (rx_tvalid || rs_reg == R_M0) begin
        tmo_next = 40'd0;
    end else begin
        tmo_next = tmo_reg + 1'b1;
        if (tmo_reg == TMO_CYCLES) begin
            rs_next = R_M0;
            if (rs_reg != R_M1) begin
                err_pend_next = 1'b1;
                err_code_next = E_TRUNCATED;
                err_id_next = (rtype_reg == T_IMAGE) ? hdr_reg[15:0] : 16'd0;
            end
        end
    end

    // --- receive: the byte
    if (rx_tvalid) begin
        sa_next = sa_b;
        sb_next = sb_reg + sa_b;
        case (rs_reg)
            R_M0: if (b == MAGIC0) rs_next = R_M1;
            R_M1: rs_next = (b == MAGIC1) ? R_TYPE : (b == MAGIC0) ? R_M1 : R_M0;
            R_TYPE: begin
                sa_next = b;
                sb_next = b;
                rtype_next = b;
                hdr_next = 32'd0;
                hcnt_next = 2'd0;
                pix_next = {AW{1'b0}};
                fill_buf_next = !last_buf_reg;
                wr_ok_next = !buf_used(!last_buf_reg);
                if (b == T_IMAGE || b == T_BENCH) begin
                    rs_next = R_HDR;
                end else if (b == T_IDENT) begin
                    rs_next = R_CKA;
                end else begin
                    rs_next = (b == MAGIC0) ? R_M1 : R_M0;
                    err_pend_next = 1'b1;
                    err_code_next = E_TYPE;
                    err_id_next = 16'd0;
                end
            end
            R_HDR: begin
                hdr_next[8*hcnt_reg +: 8] = b;
                hcnt_next = hcnt_reg + 1'b1;
                if (rtype_reg == T_IMAGE && hcnt_reg == 2'd1) rs_next = R_PIX;
                if (rtype_reg == T_BENCH && hcnt_reg == 2'd3) rs_next = R_CKA;
            end
            R_PIX: begin
                pix_next = pix_reg + 1'b1;
                if (pix_reg == NPIX[AW-1:0] - 1'b1) rs_next = R_CKA;
            end
            R_CKA: begin
                sa_next = sa_reg;
                sb_next = sb_reg;
                cka_ok_next = (b == sa_reg);
                rs_next = R_CKB;
            end
            default: begin  // R_CKB: the frame is complete
                sa_next = sa_reg;
                sb_next = sb_reg;
                rs_next = R_M0;
                if (!(cka_ok_reg && b == sb_reg)) begin
                    err_pend_next = 1'b1;
                    err_code_next = E_CHECKSUM;
                    err_id_next = (rtype_reg == T_IMAGE) ? hdr_reg[15:0] : 16'd0;
                end else if (rtype_reg == T_IDENT) begin
                    ident_pend_next = 1'b1;
                end else if (rtype_reg == T_IMAGE) begin
                    if (!wr_ok_reg || jq_v_reg[1]) begin
                        err_pend_next = 1'b1;
                        err_code_next = E_BUSY;
                        err_id_next = hdr_reg[15:0];
                    end else begin
                        last_buf_next = fill_buf_reg;
                        last_valid_next = 1'b1;
                        // push (after a pop this cycle, into the slot it freed)
                        if (!jq_v_next[0]) begin
                            jq_v_next[0] = 1'b1;
                            jq_bench_next[0] = 1'b0;
                            jq_buf_next[0] = fill_buf_reg;
                            jq_id0_next = hdr_reg[15:0];
                        end else begin
                            jq_v_next[1] = 1'b1;
                            jq_bench_next[1] = 1'b0;
                            jq_buf_next[1] = fill_buf_reg;
                            jq_id1_next = hdr_reg[15:0];
                        end
                    end
                end else begin  // T_BENCH
                    if (!last_valid_reg) begin
                        err_pend_next = 1'b1;
                        err_code_next = E_NOIMAGE;
                        err_id_next = 16'd0;
                    end else if (hdr_reg == 32'd0) begin
                        err_pend_next = 1'b1;
                        err_code_next = E_ARG;
                        err_id_next = 16'd0;
                    end else if (bench_busy_reg || jq_v_reg[1]) begin
                        err_pend_next = 1'b1;
                        err_code_next = E_BUSY;
                        err_id_next = 16'd0;
                    end else begin
                        bench_busy_next = 1'b1;
                        bench_n_next = hdr_reg;
                        if (!jq_v_next[0]) begin
                            jq_v_next[0] = 1'b1;
                            jq_bench_next[0] = 1'b1;
                            jq_buf_next[0] = last_buf_reg;
                            jq_id0_next = 16'd0;
                        end else begin
                            jq_v_next[1] = 1'b1;
                            jq_bench_next[1] = 1'b1;
                            jq_buf_next[1] = last_buf_reg;
                            jq_id1_next = 16'd0;
                        end
                    end
                end
            end
        endcase
    end

    // --- composer: send the current answer, or load the next one
    if (c_active_reg) begin
        if (tx_tready) begin
            c_idx_next = c_idx_reg + 1'b1;
            if (c_phase_reg == 2'd0) begin
                if (c_idx_reg >= 2) begin
                    ca_next = ca_reg + c_data_reg[7:0];
                    cb_next = cb_reg + ca_reg + c_data_reg[7:0];
                end
                c_data_next = {8'd0, c_data_reg[8*MAXLEN-1:8]};
                c_left_next = c_left_reg - 1'b1;
                if (c_left_reg == 1) c_phase_next = 2'd1;
            end else if (c_phase_reg == 2'd1) begin
                c_phase_next = 2'd2;
            end else begin
                c_active_next = 1'b0;
            end
        end
    end else begin
        c_phase_next = 2'd0;
        c_idx_next = {LW{1'b0}};
        ca_next = 8'd0;
        cb_next = 8'd0;
        if (res_fire) begin
            c_active_next = 1'b1;
            c_data_next = res_vec;
            c_left_next = L_RES;
        end else if (bench_done_reg) begin
            c_active_next = 1'b1;
            c_data_next = ben_vec;
            c_left_next = L_BEN;
            bench_done_next = 1'b0;
            bench_busy_next = 1'b0;
        end else if (ident_pend_reg) begin
            c_active_next = 1'b1;
            c_data_next = id_vec;
            c_left_next = L_ID;
            ident_pend_next = 1'b0;
        end else if (err_pend_reg) begin
            c_active_next = 1'b1;
            c_data_next = err_vec;
            c_left_next = L_ERR;
            err_pend_next = 1'b0;
        end
    end
end

always @(posedge clk) begin
    rs_reg <= rs_next;
    rtype_reg <= rtype_next;
    hdr_reg <= hdr_next;
    hcnt_reg <= hcnt_next;
    pix_reg <= pix_next;
    sa_reg <= sa_next;
    sb_reg <= sb_next;
    cka_ok_reg <= cka_ok_next;
    wr_ok_reg <= wr_ok_next;
    fill_buf_reg <= fill_buf_next;
    tmo_reg <= tmo_next;
    last_buf_reg <= last_buf_next;
    last_valid_reg <= last_valid_next;
    ident_pend_reg <= ident_pend_next;
    err_pend_reg <= err_pend_next;
    err_code_reg <= err_code_next;
    err_id_reg <= err_id_next;
    bench_busy_reg <= bench_busy_next;
    bench_n_reg <= bench_n_next;
    bench_run_reg <= bench_run_next;
    bench_cyc_reg <= bench_cyc_next;
    bench_out_reg <= bench_out_next;
    bench_done_reg <= bench_done_next;
    jq_v_reg <= jq_v_next;
    jq_bench_reg <= jq_bench_next;
    jq_buf_reg <= jq_buf_next;
    jq_id0_reg <= jq_id0_next;
    jq_id1_reg <= jq_id1_next;
    fd_active_reg <= fd_active_next;
    fd_buf_reg <= fd_buf_next;
    fd_idx_reg <= fd_idx_next;
    fd_reps_reg <= fd_reps_next;
    bf_head_reg <= bf_head_next;
    bf_count_reg <= bf_count_next;
    beat_reg <= beat_next;
    tag_head_reg <= tag_head_next;
    tag_count_reg <= tag_count_next;
    c_active_reg <= c_active_next;
    c_phase_reg <= c_phase_next;
    c_left_reg <= c_left_next;
    c_idx_reg <= c_idx_next;
    c_data_reg <= c_data_next;
    ca_reg <= ca_next;
    cb_reg <= cb_next;
    last_class_reg <= last_class_next;
    if (rst) begin
        rs_reg <= R_M0;
        tmo_reg <= 40'd0;
        last_buf_reg <= 1'b1;
        last_valid_reg <= 1'b0;
        ident_pend_reg <= 1'b0;
        err_pend_reg <= 1'b0;
        bench_busy_reg <= 1'b0;
        bench_run_reg <= 1'b0;
        bench_done_reg <= 1'b0;
        jq_v_reg <= 2'b00;
        fd_active_reg <= 1'b0;
        bf_head_reg <= {FPW{1'b0}};
        bf_count_reg <= {(FPW + 1){1'b0}};
        beat_reg <= {FW{1'b0}};
        tag_head_reg <= {TPW{1'b0}};
        tag_count_reg <= {(TPW + 1){1'b0}};
        c_active_reg <= 1'b0;
        last_class_reg <= {CLASS_W{1'b0}};
    end
end

endmodule
`default_nettype wire
