-- Reference data: GP system supplier counts per primary care network, kept so practices can be given
-- GP systems in realistic proportions whenever epraccur is imported, with or without the PCN file alongside.

CREATE TABLE pcn_gp_system_counts (
  pcn_code text PRIMARY KEY,
  sub_icb_code text NOT NULL,
  emis integer NOT NULL CHECK (emis >= 0),
  tpp integer NOT NULL CHECK (tpp >= 0),
  unknown integer NOT NULL CHECK (unknown >= 0)
);
CREATE INDEX pcn_gp_system_counts_sub_icb ON pcn_gp_system_counts (sub_icb_code);
