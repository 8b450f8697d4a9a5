// Output register of the area-benchmark designs: one stream register slice (DATA_W bits),
// s_axis_tready = !valid || m_axis_tready. Every benchmark design (dense baselines, QGP variants,
// the generated hardwired QGP layer) ends in this same register, so LUT/FF counts compare fairly.
module bench_out_reg #(
    parameter DATA_W = 8
) (
    input  wire              clk,
    input  wire              rst,
    input  wire [DATA_W-1:0] s_axis_tdata,
    input  wire              s_axis_tvalid,
    output wire              s_axis_tready,
    output wire [DATA_W-1:0] m_axis_tdata,
    output wire              m_axis_tvalid,
    input  wire              m_axis_tready
);
    reg [DATA_W-1:0] data_reg;
    reg              valid_reg;
    assign s_axis_tready = !valid_reg || m_axis_tready;
    assign m_axis_tdata  = data_reg;
    assign m_axis_tvalid = valid_reg;
    always @(posedge clk) begin
        if (s_axis_tready) begin
            valid_reg <= s_axis_tvalid;
            if (s_axis_tvalid) data_reg <= s_axis_tdata;
        end
        if (rst) valid_reg <= 1'b0;
    end
endmodule
