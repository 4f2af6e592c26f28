/**
 * The room-temperature measurement protocol, in one place: the canned reply residents get, the
 * measurement page and the server's validation message all read it from here.
 * Changchun 000, rule 4: 门窗关闭30分钟以上; 测温表放置在卧室、起居室……门进深二分之一处
 * (the middle of the room) 距地面一点四米高; 5分钟以上的稳定读数为实际有效温度.
 */
export const MEASUREMENT_PROTOCOL = {
  /** doors and windows closed at least this long before measuring */
  closedMinutes: 30,
  /** where the thermometer stands */
  position: '房间中央',
  /** its height above the floor, metres */
  heightM: 1.4,
  /** a reading counts once it has been stable this long */
  stableMinutes: 5,
} as const;

const P = MEASUREMENT_PROTOCOL;

/** The protocol's four checks a measurement record confirms, as staff read them. */
export const MEASUREMENT_CHECKS = ['doorsWindowsClosed30Min', 'midRoom', 'height1_4m', 'stable5Min'] as const;
export type MeasurementCheck = (typeof MEASUREMENT_CHECKS)[number];
export const MEASUREMENT_CHECK_LABEL: Record<MeasurementCheck, string> = {
  doorsWindowsClosed30Min: `门窗关闭${P.closedMinutes}分钟以上`,
  midRoom: `测点位于${P.position}`,
  height1_4m: `测点距地面${P.heightM}米`,
  stable5Min: `读数稳定${P.stableMinutes}分钟`,
};

/** For residents (canned replies, the measurement page): how to measure, one sentence. */
export const MEASUREMENT_PROTOCOL_TEXT = `关闭门窗${P.closedMinutes}分钟以上，在${P.position}、距地面${P.heightM}米处测量，读数稳定${P.stableMinutes}分钟后记录`;

/** The server's refusal when a record does not confirm every check. */
export const MEASUREMENT_PROTOCOL_REQUIRED = `测温须按规范：门窗关闭${P.closedMinutes}分钟、${P.position}、距地${P.heightM}米、读数稳定${P.stableMinutes}分钟`;
