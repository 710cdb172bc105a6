//! The 30-day activity chart, drawn as SVG on the server: for each day three bars side by side
//! (invitations, messages, replies) scaled to the busiest day, with a few grid lines. Only
//! geometry is computed here; the template writes the elements and the stylesheet colours them.

use outbound_store::activity::ActivityDay;

/// Width of the drawing, in SVG units (it scales to its box).
pub(crate) const WIDTH: i64 = 900;
/// Height of the drawing.
pub(crate) const HEIGHT: i64 = 220;
/// Space under the bars for the day labels.
const AXIS: i64 = 20;
/// Space left of the bars for the scale.
const GUTTER: i64 = 34;
/// Grid lines above the axis.
const GRID_LINES: i64 = 5;

/// One bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub class: &'static str,
    /// The tooltip: the day and the figure.
    pub title: String,
}

/// A horizontal line of the scale and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GridLine {
    pub y: i64,
    pub label: i64,
}

/// A day's label under the axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DayLabel {
    pub x: i64,
    pub text: String,
}

/// The whole chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chart {
    pub bars: Vec<Bar>,
    pub grid: Vec<GridLine>,
    pub labels: Vec<DayLabel>,
    pub width: i64,
    pub height: i64,
    pub total_invitations: i64,
    pub total_messages: i64,
    pub total_replies: i64,
}

/// `day` (days since 1970-01-01) as `Dec 4`.
fn day_label(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * 86_400, 0)
        .map_or_else(String::new, |t| t.format("%b %-d").to_string())
}

/// A round number at least `max` for the top of the scale (1, 2, 5 × 10ⁿ).
fn nice_ceiling(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= max {
                return step * factor;
            }
        }
        step *= 10;
    }
}

/// Lays out `days` (oldest first).
pub(crate) fn chart(days: &[ActivityDay]) -> Chart {
    let busiest = days
        .iter()
        .map(|d| d.invitations.max(d.messages).max(d.replies))
        .max()
        .unwrap_or(0);
    let top = nice_ceiling(busiest.max(GRID_LINES));
    let plot_height = HEIGHT - AXIS - 8;
    let slot = (WIDTH - GUTTER) / i64::try_from(days.len().max(1)).unwrap_or(1);
    let bar_width = ((slot - 4) / 3).max(1);
    let scaled = |value: i64| value * plot_height / top;
    let mut bars = Vec::with_capacity(days.len() * 3);
    let mut labels = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let x0 = GUTTER + i64::try_from(i).unwrap_or(0) * slot + 2;
        let name = day_label(day.day);
        for (k, (value, class, what)) in [
            (day.invitations, "bar-invitations", "invitations"),
            (day.messages, "bar-messages", "messages"),
            (day.replies, "bar-replies", "replies"),
        ]
        .into_iter()
        .enumerate()
        {
            let height = scaled(value);
            bars.push(Bar {
                x: x0 + i64::try_from(k).unwrap_or(0) * bar_width,
                y: HEIGHT - AXIS - height,
                width: bar_width,
                height,
                class,
                title: format!("{name}: {value} {what}"),
            });
        }
        if i % 5 == 0 || i + 1 == days.len() {
            labels.push(DayLabel {
                x: x0 + slot / 2,
                text: name,
            });
        }
    }
    let grid = (0..=GRID_LINES)
        .map(|step| GridLine {
            y: HEIGHT - AXIS - step * plot_height / GRID_LINES,
            label: top * step / GRID_LINES,
        })
        .collect();
    Chart {
        bars,
        grid,
        labels,
        width: WIDTH,
        height: HEIGHT,
        total_invitations: days.iter().map(|d| d.invitations).sum(),
        total_messages: days.iter().map(|d| d.messages).sum(),
        total_replies: days.iter().map(|d| d.replies).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busiest_day_reaches_the_top_of_a_round_scale() {
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(37), 50);
        assert_eq!(nice_ceiling(120), 200);
        let days: Vec<ActivityDay> = (0..30)
            .map(|day| ActivityDay {
                day: 20_000 + day,
                invitations: day,
                messages: 2 * day,
                replies: 0,
            })
            .collect();
        let chart = chart(&days);
        assert_eq!(chart.bars.len(), 90);
        let tallest = chart.bars.iter().map(|b| b.height).max().unwrap_or(0);
        assert!(tallest <= HEIGHT - AXIS, "{tallest}");
        assert!(chart.bars.iter().all(|b| b.x + b.width <= WIDTH));
        assert_eq!(chart.total_messages, 870);
        assert_eq!(chart.grid.last().map(|g| g.label), Some(100));
        assert_eq!(chart.grid[1].label, 20);
    }
}
