//! Plausible generated Chinese names and phone numbers (never real people).

use rand::seq::SliceRandom;
use rand::Rng;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
    "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "蒋",
    "蔡", "余",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "建华", "文", "华", "红", "玉兰", "志强", "春梅", "海燕", "丹", "欣怡", "子涵", "浩然", "雨桐",
    "宇轩", "梓萱", "俊杰", "婷", "鑫",
];

pub fn person(rng: &mut impl Rng) -> String {
    format!("{}{}", SURNAMES.choose(rng).unwrap(), GIVEN.choose(rng).unwrap())
}

/// A mobile number in the 199 test range, never a real subscriber's pattern.
pub fn phone(rng: &mut impl Rng) -> String {
    format!("199{:08}", rng.gen_range(0..100_000_000u32))
}
