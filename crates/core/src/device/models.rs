//! The phones a new account's device is drawn from: data, as their own Instagram app
//! reports them.

/// A phone model as Instagram's User-Agent describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceModel {
    /// `Maker/brand`, as instagrapi writes it (`Google/google`).
    pub manufacturer: &'static str,
    pub model: &'static str,
    /// The device codename (`husky`).
    pub device: &'static str,
    pub cpu: &'static str,
    pub dpi: &'static str,
    pub resolution: &'static str,
    /// Android API level.
    pub android_version: u32,
    pub android_release: &'static str,
}

macro_rules! models {
    ($(($m:literal, $model:literal, $dev:literal, $cpu:literal, $dpi:literal, $res:literal, $api:literal, $rel:literal)),* $(,)?) => {
        &[$(DeviceModel {
            manufacturer: $m, model: $model, device: $dev, cpu: $cpu, dpi: $dpi,
            resolution: $res, android_version: $api, android_release: $rel,
        }),*]
    };
}

/// Popular phones of 2022–2025 with the values their own Instagram app reports.
pub const MODELS: &[DeviceModel] = models![
    (
        "Google/google",
        "Pixel 8 Pro",
        "husky",
        "husky",
        "480dpi",
        "1344x2992",
        34,
        "14"
    ),
    (
        "Google/google",
        "Pixel 8",
        "shiba",
        "shiba",
        "420dpi",
        "1080x2400",
        34,
        "14"
    ),
    (
        "Google/google",
        "Pixel 7",
        "panther",
        "panther",
        "420dpi",
        "1080x2400",
        34,
        "14"
    ),
    (
        "Google/google",
        "Pixel 7a",
        "lynx",
        "lynx",
        "420dpi",
        "1080x2400",
        34,
        "14"
    ),
    (
        "Google/google",
        "Pixel 6a",
        "bluejay",
        "bluejay",
        "420dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "samsung/samsung",
        "SM-S918B",
        "dm3q",
        "qcom",
        "600dpi",
        "1440x3088",
        34,
        "14"
    ),
    (
        "samsung/samsung",
        "SM-S911B",
        "dm1q",
        "qcom",
        "420dpi",
        "1080x2340",
        34,
        "14"
    ),
    (
        "samsung/samsung",
        "SM-A546B",
        "a54x",
        "s5e8835",
        "450dpi",
        "1080x2340",
        34,
        "14"
    ),
    (
        "samsung/samsung",
        "SM-A346B",
        "a34x",
        "mt6877",
        "450dpi",
        "1080x2340",
        34,
        "14"
    ),
    (
        "samsung/samsung",
        "SM-G991B",
        "o1s",
        "exynos2100",
        "420dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "samsung/samsung",
        "SM-A135F",
        "a13",
        "exynos850",
        "450dpi",
        "1080x2408",
        33,
        "13"
    ),
    (
        "Xiaomi/xiaomi",
        "2211133G",
        "fuxi",
        "qcom",
        "440dpi",
        "1080x2400",
        34,
        "14"
    ),
    (
        "Xiaomi/Redmi",
        "2201117TY",
        "spes",
        "qcom",
        "440dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "Xiaomi/Redmi",
        "23021RAA2Y",
        "topaz",
        "qcom",
        "440dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "Xiaomi/POCO",
        "22101320G",
        "redwood",
        "qcom",
        "440dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "OnePlus/OnePlus",
        "CPH2449",
        "salami",
        "qcom",
        "450dpi",
        "1440x3216",
        34,
        "14"
    ),
    (
        "OnePlus/OnePlus",
        "LE2113",
        "lemonade",
        "qcom",
        "420dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "OnePlus/OnePlus",
        "CPH2415",
        "ivan",
        "mt6893",
        "480dpi",
        "1080x2412",
        33,
        "13"
    ),
    (
        "motorola/motorola",
        "moto g(60)",
        "hanoip",
        "qcom",
        "400dpi",
        "1080x2460",
        31,
        "12"
    ),
    (
        "motorola/motorola",
        "motorola edge 30",
        "dubai",
        "qcom",
        "400dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "OPPO/OPPO",
        "CPH2305",
        "OP52EBL1",
        "mt6877",
        "480dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "realme/realme",
        "RMX3363",
        "RE54E4L1",
        "qcom",
        "480dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "Sony/Sony",
        "XQ-CT54",
        "pdx223",
        "qcom",
        "560dpi",
        "1644x3840",
        34,
        "14"
    ),
    (
        "Nothing/Nothing",
        "A063",
        "Spacewar",
        "qcom",
        "420dpi",
        "1080x2400",
        34,
        "14"
    ),
];
