// The words of the domain that the app offers to choose from (their labels are in i18n.js).

// 役割: the usual duties at a gathering; a group may use others (the server takes any name).
export const ROLES = ["調理", "受付", "配膳", "片付け", "見守り", "買い出し"];

// Head-count categories, in the order the tally screen shows them.
export const TALLY_CATEGORIES = ["child", "adult", "senior", "parent_child", "first_time", "volunteer"];
