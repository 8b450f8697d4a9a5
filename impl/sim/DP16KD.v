// DP16KD: behavioural simulation model of the ECP5 block RAM (1,024 x 18 bits), for gate-level
// simulation of yosys synth_ecp5 netlists (yosys 0.70 ships DP16KD as a blackbox only; impl.flow
// puts this model in its place).
// Scope: the configurations yosys' memory mapping (share/lattice/brams_map_16kd.v) instantiates:
//   data widths 9, 18 (true dual port) and 36 (pseudo dual port: written through port A, DIA the
//   low and DIB the high half, byte enables on ADA3..0; read through port B, DOA the low and DOB
//   the high half); REGMODE "NOREG"; RESETMODE "SYNC" (RST zeroes the port's output register at the clock);
//   WRITEMODE NORMAL (the output keeps its value on a write), WRITETHROUGH (new data),
//   READBEFOREWRITE (old data); RESETMODE "ASYNC" too (RST zeroes the output at once);
//   chip selects decoded as "0b000" with CS tied low; contents from
//   INITVAL_00..3F (row r = 18 bits at INITVAL_<r/16>[(r%16)*20 +: 18]). A word of width W at
//   address a is the W bits at a*W of the rows laid end to end (9-bit units: 18-bit row r holds
//   units 2r and 2r+1). Other configurations stop the simulation at time 0. Read/write
//   collisions between the two ports are not modelled (the designs here never have them).
`timescale 1ns / 1ps
`default_nettype none
module DP16KD #(
    parameter DATA_WIDTH_A = 18,
    parameter DATA_WIDTH_B = 18,
    parameter REGMODE_A = "NOREG",
    parameter REGMODE_B = "NOREG",
    parameter RESETMODE = "SYNC",
    parameter ASYNC_RESET_RELEASE = "SYNC",
    parameter CSDECODE_A = "0b000",
    parameter CSDECODE_B = "0b000",
    parameter WRITEMODE_A = "NORMAL",
    parameter WRITEMODE_B = "NORMAL",
    parameter CLKAMUX = "CLKA",
    parameter CLKBMUX = "CLKB",
    parameter GSR = "ENABLED",
    parameter [319:0] INITVAL_00 = 320'h0,
    parameter [319:0] INITVAL_01 = 320'h0,
    parameter [319:0] INITVAL_02 = 320'h0,
    parameter [319:0] INITVAL_03 = 320'h0,
    parameter [319:0] INITVAL_04 = 320'h0,
    parameter [319:0] INITVAL_05 = 320'h0,
    parameter [319:0] INITVAL_06 = 320'h0,
    parameter [319:0] INITVAL_07 = 320'h0,
    parameter [319:0] INITVAL_08 = 320'h0,
    parameter [319:0] INITVAL_09 = 320'h0,
    parameter [319:0] INITVAL_0A = 320'h0,
    parameter [319:0] INITVAL_0B = 320'h0,
    parameter [319:0] INITVAL_0C = 320'h0,
    parameter [319:0] INITVAL_0D = 320'h0,
    parameter [319:0] INITVAL_0E = 320'h0,
    parameter [319:0] INITVAL_0F = 320'h0,
    parameter [319:0] INITVAL_10 = 320'h0,
    parameter [319:0] INITVAL_11 = 320'h0,
    parameter [319:0] INITVAL_12 = 320'h0,
    parameter [319:0] INITVAL_13 = 320'h0,
    parameter [319:0] INITVAL_14 = 320'h0,
    parameter [319:0] INITVAL_15 = 320'h0,
    parameter [319:0] INITVAL_16 = 320'h0,
    parameter [319:0] INITVAL_17 = 320'h0,
    parameter [319:0] INITVAL_18 = 320'h0,
    parameter [319:0] INITVAL_19 = 320'h0,
    parameter [319:0] INITVAL_1A = 320'h0,
    parameter [319:0] INITVAL_1B = 320'h0,
    parameter [319:0] INITVAL_1C = 320'h0,
    parameter [319:0] INITVAL_1D = 320'h0,
    parameter [319:0] INITVAL_1E = 320'h0,
    parameter [319:0] INITVAL_1F = 320'h0,
    parameter [319:0] INITVAL_20 = 320'h0,
    parameter [319:0] INITVAL_21 = 320'h0,
    parameter [319:0] INITVAL_22 = 320'h0,
    parameter [319:0] INITVAL_23 = 320'h0,
    parameter [319:0] INITVAL_24 = 320'h0,
    parameter [319:0] INITVAL_25 = 320'h0,
    parameter [319:0] INITVAL_26 = 320'h0,
    parameter [319:0] INITVAL_27 = 320'h0,
    parameter [319:0] INITVAL_28 = 320'h0,
    parameter [319:0] INITVAL_29 = 320'h0,
    parameter [319:0] INITVAL_2A = 320'h0,
    parameter [319:0] INITVAL_2B = 320'h0,
    parameter [319:0] INITVAL_2C = 320'h0,
    parameter [319:0] INITVAL_2D = 320'h0,
    parameter [319:0] INITVAL_2E = 320'h0,
    parameter [319:0] INITVAL_2F = 320'h0,
    parameter [319:0] INITVAL_30 = 320'h0,
    parameter [319:0] INITVAL_31 = 320'h0,
    parameter [319:0] INITVAL_32 = 320'h0,
    parameter [319:0] INITVAL_33 = 320'h0,
    parameter [319:0] INITVAL_34 = 320'h0,
    parameter [319:0] INITVAL_35 = 320'h0,
    parameter [319:0] INITVAL_36 = 320'h0,
    parameter [319:0] INITVAL_37 = 320'h0,
    parameter [319:0] INITVAL_38 = 320'h0,
    parameter [319:0] INITVAL_39 = 320'h0,
    parameter [319:0] INITVAL_3A = 320'h0,
    parameter [319:0] INITVAL_3B = 320'h0,
    parameter [319:0] INITVAL_3C = 320'h0,
    parameter [319:0] INITVAL_3D = 320'h0,
    parameter [319:0] INITVAL_3E = 320'h0,
    parameter [319:0] INITVAL_3F = 320'h0,
    parameter INITVAL_UNUSED = 0
) (
    input  wire DIA0,
    input  wire DIA1,
    input  wire DIA2,
    input  wire DIA3,
    input  wire DIA4,
    input  wire DIA5,
    input  wire DIA6,
    input  wire DIA7,
    input  wire DIA8,
    input  wire DIA9,
    input  wire DIA10,
    input  wire DIA11,
    input  wire DIA12,
    input  wire DIA13,
    input  wire DIA14,
    input  wire DIA15,
    input  wire DIA16,
    input  wire DIA17,
    input  wire ADA0,
    input  wire ADA1,
    input  wire ADA2,
    input  wire ADA3,
    input  wire ADA4,
    input  wire ADA5,
    input  wire ADA6,
    input  wire ADA7,
    input  wire ADA8,
    input  wire ADA9,
    input  wire ADA10,
    input  wire ADA11,
    input  wire ADA12,
    input  wire ADA13,
    input  wire CEA, OCEA, CLKA, WEA, RSTA, CSA2, CSA1, CSA0,
    output wire DOA0,
    output wire DOA1,
    output wire DOA2,
    output wire DOA3,
    output wire DOA4,
    output wire DOA5,
    output wire DOA6,
    output wire DOA7,
    output wire DOA8,
    output wire DOA9,
    output wire DOA10,
    output wire DOA11,
    output wire DOA12,
    output wire DOA13,
    output wire DOA14,
    output wire DOA15,
    output wire DOA16,
    output wire DOA17,
    input  wire DIB0,
    input  wire DIB1,
    input  wire DIB2,
    input  wire DIB3,
    input  wire DIB4,
    input  wire DIB5,
    input  wire DIB6,
    input  wire DIB7,
    input  wire DIB8,
    input  wire DIB9,
    input  wire DIB10,
    input  wire DIB11,
    input  wire DIB12,
    input  wire DIB13,
    input  wire DIB14,
    input  wire DIB15,
    input  wire DIB16,
    input  wire DIB17,
    input  wire ADB0,
    input  wire ADB1,
    input  wire ADB2,
    input  wire ADB3,
    input  wire ADB4,
    input  wire ADB5,
    input  wire ADB6,
    input  wire ADB7,
    input  wire ADB8,
    input  wire ADB9,
    input  wire ADB10,
    input  wire ADB11,
    input  wire ADB12,
    input  wire ADB13,
    input  wire CEB, OCEB, CLKB, WEB, RSTB, CSB2, CSB1, CSB0,
    output wire DOB0,
    output wire DOB1,
    output wire DOB2,
    output wire DOB3,
    output wire DOB4,
    output wire DOB5,
    output wire DOB6,
    output wire DOB7,
    output wire DOB8,
    output wire DOB9,
    output wire DOB10,
    output wire DOB11,
    output wire DOB12,
    output wire DOB13,
    output wire DOB14,
    output wire DOB15,
    output wire DOB16,
    output wire DOB17
);

wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};

// 2,048 units of 9 bits: unit 2r = row r bits [8:0], unit 2r+1 = row r bits [17:9]
reg [8:0] m [0:2047];

function [319:0] initval;
    input integer k;
    begin
        case (k)
            0: initval = INITVAL_00;
            1: initval = INITVAL_01;
            2: initval = INITVAL_02;
            3: initval = INITVAL_03;
            4: initval = INITVAL_04;
            5: initval = INITVAL_05;
            6: initval = INITVAL_06;
            7: initval = INITVAL_07;
            8: initval = INITVAL_08;
            9: initval = INITVAL_09;
            10: initval = INITVAL_0A;
            11: initval = INITVAL_0B;
            12: initval = INITVAL_0C;
            13: initval = INITVAL_0D;
            14: initval = INITVAL_0E;
            15: initval = INITVAL_0F;
            16: initval = INITVAL_10;
            17: initval = INITVAL_11;
            18: initval = INITVAL_12;
            19: initval = INITVAL_13;
            20: initval = INITVAL_14;
            21: initval = INITVAL_15;
            22: initval = INITVAL_16;
            23: initval = INITVAL_17;
            24: initval = INITVAL_18;
            25: initval = INITVAL_19;
            26: initval = INITVAL_1A;
            27: initval = INITVAL_1B;
            28: initval = INITVAL_1C;
            29: initval = INITVAL_1D;
            30: initval = INITVAL_1E;
            31: initval = INITVAL_1F;
            32: initval = INITVAL_20;
            33: initval = INITVAL_21;
            34: initval = INITVAL_22;
            35: initval = INITVAL_23;
            36: initval = INITVAL_24;
            37: initval = INITVAL_25;
            38: initval = INITVAL_26;
            39: initval = INITVAL_27;
            40: initval = INITVAL_28;
            41: initval = INITVAL_29;
            42: initval = INITVAL_2A;
            43: initval = INITVAL_2B;
            44: initval = INITVAL_2C;
            45: initval = INITVAL_2D;
            46: initval = INITVAL_2E;
            47: initval = INITVAL_2F;
            48: initval = INITVAL_30;
            49: initval = INITVAL_31;
            50: initval = INITVAL_32;
            51: initval = INITVAL_33;
            52: initval = INITVAL_34;
            53: initval = INITVAL_35;
            54: initval = INITVAL_36;
            55: initval = INITVAL_37;
            56: initval = INITVAL_38;
            57: initval = INITVAL_39;
            58: initval = INITVAL_3A;
            59: initval = INITVAL_3B;
            60: initval = INITVAL_3C;
            61: initval = INITVAL_3D;
            62: initval = INITVAL_3E;
            63: initval = INITVAL_3F;
            default: initval = 320'h0;
        endcase
    end
endfunction

integer r;
reg [319:0] iv;
initial begin
    for (r = 0; r < 1024; r = r + 1) begin
        iv = initval(r / 16);
        m[2*r] = iv[(r % 16) * 20 +: 9];
        m[2*r + 1] = iv[(r % 16) * 20 + 9 +: 9];
    end
    if ((DATA_WIDTH_A != 9 && DATA_WIDTH_A != 18 && DATA_WIDTH_A != 36)
            || (DATA_WIDTH_B != 9 && DATA_WIDTH_B != 18 && DATA_WIDTH_B != 36)
            || REGMODE_A != "NOREG" || REGMODE_B != "NOREG"
            || (RESETMODE != "SYNC" && RESETMODE != "ASYNC")
            || CSDECODE_A != "0b000" || CSDECODE_B != "0b000"
            || CLKAMUX != "CLKA" || CLKBMUX != "CLKB") begin
        $display("DP16KD model: configuration not modelled (widths %0d/%0d)", DATA_WIDTH_A,
                 DATA_WIDTH_B);
        $finish;
    end
end

// first 9-bit unit of the word a port addresses, and its byte enables
function [10:0] unit0;
    input [13:0] ad;
    input integer w;
    begin
        if (w == 36) unit0 = {ad[13:5], 2'b00};
        else if (w == 18) unit0 = {ad[13:4], 1'b0};
        else unit0 = ad[13:3];
    end
endfunction

function [3:0] bytes;
    input [13:0] ad;
    input integer w;
    begin
        if (w == 36) bytes = ad[3:0];
        else if (w == 18) bytes = {2'b00, ad[1:0]};
        else bytes = 4'b0001;
    end
endfunction

wire [10:0] ua = unit0(ada, DATA_WIDTH_A);
wire [10:0] ub = unit0(adb, DATA_WIDTH_B);
wire [3:0]  ba = bytes(ada, DATA_WIDTH_A);
wire [3:0]  bb = bytes(adb, DATA_WIDTH_B);
// data written: port A carries all 36 bits in the 36-bit mode
wire [35:0] wda = (DATA_WIDTH_A == 36) ? {dib, dia} : {18'd0, dia};
wire [35:0] wdb = {18'd0, dib};
localparam NA = DATA_WIDTH_A / 9;
localparam NB = DATA_WIDTH_B / 9;
// write enables: WE with the byte enables (36 bits: WE is tied high, the bytes enable)
wire wea = CEA && WEA;
wire web = CEB && WEB && DATA_WIDTH_A != 36;

function [35:0] read_word;
    input [10:0] u;
    input integer n;
    integer j;
    begin
        read_word = 36'd0;
        for (j = 0; j < 4; j = j + 1) begin
            if (j < n) read_word[j*9 +: 9] = m[u + j];
        end
    end
endfunction

reg [35:0] qa = 36'd0, qb = 36'd0;
wire [35:0] qa_next = (!WEA || WRITEMODE_A == "READBEFOREWRITE") ? read_word(ua, NA)
                    : (WRITEMODE_A == "WRITETHROUGH") ? wda : qa;
wire [35:0] qb_next = (!WEB || WRITEMODE_B == "READBEFOREWRITE") ? read_word(ub, NB)
                    : (WRITEMODE_B == "WRITETHROUGH") ? wdb : qb;
generate
    if (RESETMODE == "ASYNC") begin : g_async
        always @(posedge CLKA or posedge RSTA) begin
            if (RSTA) qa <= 36'd0;
            else if (CEA && DATA_WIDTH_A != 36) qa <= qa_next;
        end
        always @(posedge CLKB or posedge RSTB) begin
            if (RSTB) qb <= 36'd0;
            else if (CEB) qb <= qb_next;
        end
    end else begin : g_sync
        always @(posedge CLKA) begin
            if (RSTA) qa <= 36'd0;
            else if (CEA && DATA_WIDTH_A != 36) qa <= qa_next;
        end
        always @(posedge CLKB) begin
            if (RSTB) qb <= 36'd0;
            else if (CEB) qb <= qb_next;
        end
    end
endgenerate

// a write of the n units of word u with byte enables be
task write_word;
    input [10:0] u;
    input integer n;
    input [3:0] be;
    input [35:0] wd;
    integer j;
    begin
        for (j = 0; j < 4; j = j + 1) begin
            if (j < n && be[j]) m[u + j] <= wd[j*9 +: 9];
        end
    end
endtask

always @(posedge CLKA) if (wea) write_word(ua, NA, ba, wda);
always @(posedge CLKB) if (web) write_word(ub, NB, bb, wdb);

// port B in the 36-bit mode drives both output buses
wire [17:0] doa = (DATA_WIDTH_B == 36) ? qb[17:0] : qa[17:0];
wire [17:0] dob = (DATA_WIDTH_B == 36) ? qb[35:18] : qb[17:0];
assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;

endmodule
`default_nettype wire
