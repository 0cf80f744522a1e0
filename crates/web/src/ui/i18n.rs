//! Every UI string in English and Russian. Templates write the English text as the key
//! (`{{ l.t("Posts") }}`), so a page reads naturally and a missing translation shows English
//! rather than a key; a test checks every key used in the templates has its Russian.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::http::{HeaderMap, header};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ru => "Русский",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    /// The first language of `Accept-Language` the UI speaks (quality order), else English.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let Some(raw) = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::En;
        };
        let mut offers: Vec<(f32, Lang)> = raw
            .split(',')
            .filter_map(|part| {
                let mut bits = part.split(';');
                let tag = bits.next()?.trim();
                let primary = tag.split('-').next()?;
                let lang = Lang::from_code(primary)?;
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q=").map(str::to_owned))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        offers.sort_by(|a, b| b.0.total_cmp(&a.0));
        offers.first().map_or(Lang::En, |o| o.1)
    }

    /// The text in this language.
    pub fn t(self, en: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Ru => russian().get(en).copied().unwrap_or(en),
        }
    }
}

fn russian() -> &'static HashMap<&'static str, &'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| TABLE.iter().copied().collect())
}

/// English → Russian.
pub(crate) const TABLE: &[(&str, &str)] = &[
    ("Glossaries", "Глоссарии"),
    ("Glossary", "Глоссарий"),
    (
        "One glossary per language pair: every translation from the caption's language into the account's language uses its terms, matched as whole words regardless of case.",
        "Один глоссарий на языковую пару: каждый перевод с языка подписи на язык аккаунта использует его термины, они находятся как целые слова без учёта регистра.",
    ),
    ("Terms", "Термины"),
    ("terms", "терминов"),
    ("Term", "Термин"),
    ("Translation", "Перевод"),
    ("Version", "Версия"),
    ("Changed", "Изменён"),
    ("New glossary", "Новый глоссарий"),
    ("Into", "На"),
    (
        "Terms, one per line: term = translation",
        "Термины, по одному в строке: термин = перевод",
    ),
    ("Import a CSV or TSV file", "Импорт файла CSV или TSV"),
    (
        "Two columns, term and translation; a first line of column names is skipped.",
        "Два столбца, термин и перевод; первая строка с названиями столбцов пропускается.",
    ),
    ("File", "Файл"),
    (
        "Replace the terms of this language pair's glossary",
        "Заменить термины глоссария этой языковой пары",
    ),
    ("Edit", "Изменить"),
    ("Delete the glossary?", "Удалить глоссарий?"),
    ("Publish as", "Опубликовать как"),
    (
        "What the files make (photo, video, carousel)",
        "По файлам (фото, видео, карусель)",
    ),
    ("Reel (one video)", "Reels (одно видео)"),
    (
        "Story (one photo or video)",
        "История (одно фото или видео)",
    ),
    ("Post options", "Параметры публикации"),
    (
        "The first comment and the alt texts (one field under each file above) are translated for every account, like the caption.",
        "Первый комментарий и альтернативные тексты (поле под каждым файлом выше) переводятся для каждого аккаунта, как и подпись.",
    ),
    ("First comment", "Первый комментарий"),
    ("Pin the first comment", "Закрепить первый комментарий"),
    ("Location", "Место"),
    ("Place name", "Название места"),
    ("Latitude", "Широта"),
    ("Longitude", "Долгота"),
    ("Tagged people", "Отмеченные люди"),
    (
        "One per line: username, then x and y from 0 to 1, then the carousel item (from 0).",
        "По одному в строке: имя пользователя, затем x и y от 0 до 1, затем номер элемента карусели (с 0).",
    ),
    ("Collaborators", "Соавторы"),
    ("Turn comments off", "Отключить комментарии"),
    (
        "Hide like and view counts",
        "Скрыть число отметок «Нравится» и просмотров",
    ),
    (
        "Reels: also show in the profile grid",
        "Reels: показывать и в сетке профиля",
    ),
    ("Reel or video cover", "Обложка Reels или видео"),
    ("Cover", "Обложка"),
    (
        "Or the video's frame at (milliseconds)",
        "Или кадр видео на (миллисекунды)",
    ),
    ("Alt text", "Альтернативный текст"),
    ("photo", "фото"),
    ("video · cover", "видео · обложка"),
    ("pinned", "закреплён"),
    ("item", "элемент"),
    ("Comments", "Комментарии"),
    ("off", "отключены"),
    ("Like and view counts", "Отметки «Нравится» и просмотры"),
    ("hidden", "скрыты"),
    ("Profile grid", "Сетка профиля"),
    (
        "not shown (reel only in Reels)",
        "не показывается (только в Reels)",
    ),
    ("the frame at", "кадр на"),
    ("Dashboard", "Обзор"),
    ("Posts", "Публикации"),
    ("Calendar", "Календарь"),
    ("Accounts", "Аккаунты"),
    ("Groups", "Группы"),
    ("Proxies", "Прокси"),
    ("Logs", "Журнал"),
    ("Users", "Пользователи"),
    ("Sign in", "Войти"),
    ("Sign out", "Выйти"),
    ("Username", "Имя пользователя"),
    ("Password", "Пароль"),
    ("Language", "Язык"),
    ("Interface language", "Язык интерфейса"),
    ("Save", "Сохранить"),
    ("Apply", "Применить"),
    ("Create", "Создать"),
    ("Search", "Поиск"),
    ("Filter", "Фильтр"),
    ("Any", "Любой"),
    ("Status", "Статус"),
    ("Group", "Группа"),
    ("No group", "Без группы"),
    ("Proxy", "Прокси"),
    ("Device", "Устройство"),
    ("SIM carrier", "Оператор SIM"),
    (
        "none for this country: instagrapi's T-Mobile US is sent",
        "для этой страны нет: отправляется T-Mobile US из instagrapi",
    ),
    ("Locale", "Локаль"),
    ("Time zone", "Часовой пояс"),
    ("Created", "Создано"),
    ("Updated", "Обновлено"),
    ("Actions", "Действия"),
    ("Details", "Подробности"),
    ("Previous", "Назад"),
    ("Next", "Вперёд"),
    ("Page", "Страница"),
    ("of", "из"),
    ("Loading…", "Загрузка…"),
    ("Nothing here yet.", "Здесь пока ничего нет."),
    ("Error", "Ошибка"),
    ("Page not found", "Страница не найдена"),
    (
        "You may not open this page",
        "У вас нет доступа к этой странице",
    ),
    (
        "This screen is for administrators.",
        "Этот раздел доступен только администраторам.",
    ),
    ("Back to the dashboard", "Вернуться на обзор"),
    ("Something went wrong", "Что-то пошло не так"),
    // dashboard
    ("Live queue", "Очередь в реальном времени"),
    ("Waiting", "Ожидают"),
    ("Running", "Выполняются"),
    ("Retrying", "Повторяются"),
    ("Failed", "Ошибки"),
    ("Published over time", "Публикации по времени"),
    ("By day (30 days)", "По дням (30 дней)"),
    ("By hour (48 hours)", "По часам (48 часов)"),
    ("Published", "Опубликовано"),
    ("Groups at a glance", "Группы кратко"),
    ("Success rate", "Доля успеха"),
    ("Last 24 hours", "За 24 часа"),
    ("Last 7 days", "За 7 дней"),
    ("Most troubled accounts", "Самые проблемные аккаунты"),
    ("Failures", "Ошибки"),
    ("Last error", "Последняя ошибка"),
    ("Accounts by status", "Аккаунты по статусам"),
    ("Published by group", "Опубликовано по группам"),
    // posts
    ("New post", "Новая публикация"),
    ("Caption", "Подпись"),
    ("Progress", "Прогресс"),
    ("Scheduled", "Запланировано"),
    ("All statuses", "Все статусы"),
    ("Media", "Медиа"),
    (
        "Photos (JPEG, PNG, WebP) or videos (MP4, MOV); up to 10 make a carousel. Drag to reorder.",
        "Фото (JPEG, PNG, WebP) или видео (MP4, MOV); до 10 файлов — карусель. Перетащите, чтобы изменить порядок.",
    ),
    (
        "Drop files here or choose them",
        "Перетащите файлы сюда или выберите их",
    ),
    ("Source language", "Язык оригинала"),
    ("Target groups", "Группы для публикации"),
    ("accounts", "аккаунтов"),
    ("Photos outside 4:5…1.91:1", "Фото вне пропорций 4:5…1.91:1"),
    ("Refuse", "Отклонить"),
    ("Crop", "Обрезать"),
    ("Pad", "Дополнить полями"),
    ("Create draft", "Создать черновик"),
    ("characters", "символов"),
    ("hashtags", "хэштегов"),
    ("mentions", "упоминаний"),
    ("Translations", "Переводы"),
    ("Translate", "Перевести"),
    (
        "Every language the accounts of the groups speak, side by side. Edit any text and save it: your edit is kept.",
        "Все языки аккаунтов выбранных групп рядом. Исправьте любой текст и сохраните: правка сохранится.",
    ),
    ("original", "оригинал"),
    ("machine", "машинный"),
    ("edited", "исправлен"),
    ("stale: the source changed", "устарел: оригинал изменился"),
    ("Saved", "Сохранено"),
    ("Schedule", "Расписание"),
    ("Now", "Сейчас"),
    ("At a date and time", "В дату и время"),
    (
        "Date and time (your time zone)",
        "Дата и время (ваш часовой пояс)",
    ),
    ("Preview the plan", "Показать план"),
    ("Publish", "Опубликовать"),
    ("accounts will post", "аккаунтов опубликуют"),
    ("the last one at", "последний в"),
    ("Left out", "Исключены"),
    ("Executions", "Выполнение"),
    ("published", "опубликовано"),
    ("queued", "в очереди"),
    ("posting", "публикуется"),
    ("failed", "с ошибкой"),
    ("cancelled", "отменено"),
    ("Retry failed", "Повторить неудачные"),
    ("Cancel queued", "Отменить ожидающие"),
    ("Account", "Аккаунт"),
    ("Attempts", "Попытки"),
    ("Planned", "Запланировано на"),
    ("Open on Instagram", "Открыть в Instagram"),
    ("Month", "Месяц"),
    ("Week", "Неделя"),
    ("Mon", "Пн"),
    ("Tue", "Вт"),
    ("Wed", "Ср"),
    ("Thu", "Чт"),
    ("Fri", "Пт"),
    ("Sat", "Сб"),
    ("Sun", "Вс"),
    // accounts
    ("Import", "Импорт"),
    ("Import accounts", "Импорт аккаунтов"),
    (
        "One account per line: username:password[:language[:group[:proxy_url]]][:registered], or a CSV file with a header.",
        "Один аккаунт на строку: username:password[:язык[:группа[:proxy_url]]][:дата регистрации] или CSV-файл с заголовком.",
    ),
    ("Lines", "Строки"),
    ("or a file", "или файл"),
    ("Default language", "Язык по умолчанию"),
    ("Check only (dry run)", "Только проверить (без сохранения)"),
    ("Line", "Строка"),
    ("Result", "Результат"),
    ("created", "создан"),
    ("duplicate", "дубликат"),
    ("invalid", "ошибка"),
    ("Total", "Всего"),
    ("With the selected", "С выбранными"),
    ("Move to group", "Перенести в группу"),
    ("Check status", "Проверить статус"),
    ("Log in", "Войти в Instagram"),
    ("Delete", "Удалить"),
    ("Last post", "Последняя публикация"),
    ("Posts per day", "Публикаций в день"),
    ("Age", "Возраст"),
    ("days", "дн."),
    ("registered on Instagram on", "зарегистрирован в Instagram"),
    (
        "registration date unknown: warms up as a new account",
        "дата регистрации неизвестна: прогревается как новый",
    ),
    ("Warm-up", "Прогрев"),
    ("Posting hours", "Часы публикаций"),
    ("Media copies", "Копии медиа"),
    ("Own copy", "Своя копия"),
    (
        "variants for this language's accounts, for example:",
        "вариантов для аккаунтов этого языка, например:",
    ),
    (
        "as each account's group says",
        "как задано в группе аккаунта",
    ),
    (
        "Each account gets its own copy of the media (slightly cropped, recoloured, re-encoded), so no two accounts upload the same file.",
        "Каждый аккаунт получает свою копию медиа (чуть обрезанную, с другим цветом и кодированием), поэтому никакие два аккаунта не загружают один и тот же файл.",
    ),
    ("bits from the original", "бит от оригинала"),
    ("closest two accounts", "ближайшие два аккаунта"),
    ("bits", "бит"),
    (
        "the smallest perceptual distance between the copies of two accounts",
        "наименьшее перцептивное расстояние между копиями двух аккаунтов",
    ),
    (
        "each account's own copy of the media",
        "у каждого аккаунта своя копия медиа",
    ),
    ("any hour", "в любое время"),
    (
        "in each account's own time zone; empty: any hour",
        "в часовом поясе каждого аккаунта; пусто — в любое время",
    ),
    ("stage", "этап"),
    ("done", "завершён"),
    ("Allowed in 24 h", "Разрешено за 24 ч"),
    ("Registered on Instagram", "Зарегистрирован в Instagram"),
    ("Status history", "История статусов"),
    ("Recent executions", "Последние публикации"),
    ("Session", "Сессия"),
    ("has a session", "сессия есть"),
    ("no session", "сессии нет"),
    ("Import a session", "Импорт сессии"),
    ("Session JSON", "JSON сессии"),
    ("Instagram asks for a code", "Instagram запрашивает код"),
    ("Code", "Код"),
    ("Send the code", "Отправить код"),
    ("Done", "Готово"),
    // groups, proxies, users, logs
    ("Name", "Название"),
    ("Description", "Описание"),
    ("New group", "Новая группа"),
    ("Languages", "Языки"),
    ("Health", "Состояние"),
    ("Check now", "Проверить сейчас"),
    ("Import proxies", "Импорт прокси"),
    (
        "One proxy URL per line, e.g. socks5://user:pass@host:1080",
        "Один URL прокси на строку, например socks5://user:pass@host:1080",
    ),
    ("Assigned account", "Назначенный аккаунт"),
    ("Last check", "Последняя проверка"),
    ("Latency", "Задержка"),
    ("Action", "Действие"),
    ("Time", "Время"),
    ("From", "С"),
    ("To", "По"),
    ("New user", "Новый пользователь"),
    ("E-mail", "Эл. почта"),
    ("Role", "Роль"),
    ("Active", "Активен"),
    ("Disabled", "Отключён"),
    ("Disable", "Отключить"),
    ("Enable", "Включить"),
    ("admin", "администратор"),
    ("editor", "редактор"),
    ("Last sign-in", "Последний вход"),
    ("Deleted", "Удалён"),
    ("Refresh the list", "Обновить список"),
    ("Settings", "Настройки"),
    ("Delete the group", "Удалить группу"),
    ("Delete the group?", "Удалить группу?"),
    (
        "Delete this post? Whatever it published stays in the accounts' posting history, which pacing still counts.",
        "Удалить эту публикацию? Всё, что она опубликовала, останется в истории публикаций аккаунтов и по-прежнему учитывается в лимитах.",
    ),
    ("Its accounts", "Её аккаунты"),
    ("keep them, without a group", "оставить без группы"),
    ("move them to", "перенести в"),
    ("delete them", "удалить"),
    ("New password", "Новый пароль"),
    (
        "press Translate again for the other languages",
        "нажмите «Перевести» ещё раз для других языков",
    ),
    (
        "Paste lines or choose a file.",
        "Вставьте строки или выберите файл.",
    ),
    (
        "Select at least one account.",
        "Выберите хотя бы один аккаунт.",
    ),
    (
        "Wrong username or password, or the user is disabled.",
        "Неверное имя пользователя или пароль, либо пользователь отключён.",
    ),
    // Approvals ([workflow]).
    ("Review", "Проверка"),
    ("to go out at", "к публикации в"),
    ("Approve and publish", "Одобрить и опубликовать"),
    (
        "What should change (the editor sees this)",
        "Что исправить (редактор увидит этот комментарий)",
    ),
    ("Reject", "Отклонить"),
    ("Submit for review", "Отправить на проверку"),
    (
        "An admin approves posts before they go out: submit this one with the time you want.",
        "Посты публикуются после одобрения администратором: отправьте этот пост на проверку с нужным временем.",
    ),
    ("Posts waiting for review", "Посты на проверке"),
    // Snippets and hashtag sets ([workflow]).
    ("Snippets", "Шаблоны"),
    (
        "Hashtag sets and pieces of captions, per group and language; the composer inserts them into a caption.",
        "Наборы хэштегов и фрагменты подписей для группы и языка; редактор поста вставляет их в подпись.",
    ),
    ("every group", "все группы"),
    ("Text", "Текст"),
    ("Add snippet", "Добавить шаблон"),
    ("Cancel", "Отмена"),
    ("Edit", "Изменить"),
    ("Delete this snippet?", "Удалить этот шаблон?"),
    ("Insert a snippet", "Вставить шаблон"),
    // Importing posts ([workflow]).
    ("Import posts", "Импорт постов"),
    (
        "One post per row of a spreadsheet saved as CSV (UTF-8), and a ZIP of the photos and videos it names. Start from the template.",
        "Один пост в строке таблицы, сохранённой как CSV (UTF-8), и ZIP с фото и видео, которые в ней названы. Начните с шаблона.",
    ),
    ("Download the template", "Скачать шаблон"),
    ("Columns", "Столбцы"),
    ("Spreadsheet (CSV)", "Таблица (CSV)"),
    ("Media (ZIP)", "Медиа (ZIP)"),
    (
        "problem(s): nothing was imported. Correct the rows and check again.",
        "ошибок: ничего не импортировано. Исправьте строки и проверьте снова.",
    ),
    ("Row", "Строка"),
    ("Column", "Столбец"),
    ("Problem", "Ошибка"),
    (
        "post(s) checked: all can be imported. Untick “Check only” to import them.",
        "постов проверено: все можно импортировать. Снимите «Только проверить», чтобы импортировать.",
    ),
    ("post(s) imported.", "постов импортировано."),
    ("When", "Когда"),
    (
        "This snippet would bring the caption to {n} hashtags; Instagram allows {max}. Remove some first.",
        "С этим шаблоном в подписи будет хэштегов: {n}; Instagram разрешает {max}. Сначала уберите лишние.",
    ),
];

/// Machine words (statuses, error classes) → (English, Russian) for people.
const WORDS: &[(&str, &str, &str)] = &[
    ("active", "active", "активен"),
    ("banned", "banned", "заблокирован"),
    ("cooldown", "cooling down", "пауза"),
    ("login_required", "needs login", "нужен вход"),
    ("proxy_error", "proxy error", "ошибка прокси"),
    ("checking", "checking", "проверяется"),
    ("draft", "draft", "черновик"),
    ("pending", "scheduled", "запланирован"),
    ("posting", "posting", "публикуется"),
    ("completed", "completed", "завершён"),
    ("failed", "failed", "ошибка"),
    ("queued", "queued", "в очереди"),
    ("success", "published", "опубликован"),
    ("cancelled", "cancelled", "отменён"),
    ("running", "running", "выполняется"),
    ("succeeded", "succeeded", "успешно"),
    ("admin", "admin", "администратор"),
    ("editor", "editor", "редактор"),
    ("photo", "photo", "фото"),
    ("video", "video", "видео"),
    ("carousel", "carousel", "карусель"),
    ("reel", "reel", "reels"),
    ("story", "story", "история"),
    ("in_review", "in review", "на проверке"),
    ("rejected", "rejected", "отклонён"),
    ("submitted", "submitted", "отправлен на проверку"),
    ("approved", "approved", "одобрен"),
    (
        "returned",
        "edited, back in review",
        "изменён, снова на проверке",
    ),
    (
        "retryable",
        "Instagram or the network failed for a moment; it was tried again",
        "Instagram или сеть ненадолго отказали; попытка повторена",
    ),
    (
        "relogin",
        "the session ended; the account has to log in again",
        "сессия закончилась; аккаунту нужно войти заново",
    ),
    (
        "challenge",
        "Instagram asks the account to confirm it is theirs (a code)",
        "Instagram просит подтвердить аккаунт (код)",
    ),
    (
        "proxy",
        "the account's proxy does not answer",
        "прокси аккаунта не отвечает",
    ),
    (
        "bad_media",
        "Instagram refused the photo or video",
        "Instagram отклонил фото или видео",
    ),
    ("credentials", "the password is wrong", "неверный пароль"),
    (
        "outdated",
        "Instagram wants a newer app version",
        "Instagram требует более новую версию приложения",
    ),
    (
        "banned_account",
        "the account is banned",
        "аккаунт заблокирован",
    ),
    ("off", "off: the same file", "нет: один файл"),
    ("light", "light: invisible", "лёгкие: незаметные"),
    ("strong", "strong", "сильные"),
];

impl Lang {
    /// A machine word (status, error class) for people; unknown words stay as they are.
    pub fn word(self, word: &str) -> String {
        match WORDS.iter().find(|w| w.0 == word) {
            Some((_, en, ru)) => match self {
                Lang::En => (*en).to_owned(),
                Lang::Ru => (*ru).to_owned(),
            },
            None => word.replace('_', " "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t("…")` in the templates and the UI code has its Russian.
    #[test]
    fn every_ui_string_has_russian() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut sources = Vec::new();
        // Pages may live in folders of their own (`ui/posts/`): read them all.
        let mut dirs: Vec<std::path::PathBuf> = ["templates", "src/ui"]
            .iter()
            .map(|d| format!("{root}{d}").into())
            .collect();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    sources.push(std::fs::read_to_string(&path).expect("read"));
                }
            }
        }
        assert!(sources.len() > 20, "the UI's sources were not found");
        let mut missing = Vec::new();
        for text in &sources {
            for part in text.split(".t(\"").skip(1) {
                let Some(end) = part.find("\")") else {
                    continue;
                };
                let key = &part[..end];
                if !key.contains('"') && russian().get(key).is_none() {
                    missing.push(key.to_owned());
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "no Russian for: {missing:?}");
    }

    #[test]
    fn accept_language_picks_the_best_known_language() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            "de-DE,ru;q=0.8,en;q=0.5".parse().expect("header"),
        );
        assert_eq!(Lang::from_headers(&h), Lang::Ru);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "en-GB,ru;q=0.9".parse().expect("header"),
        );
        assert_eq!(Lang::from_headers(&h), Lang::En);
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::En);
        assert_eq!(Lang::Ru.t("Posts"), "Публикации");
        assert_eq!(Lang::Ru.word("login_required"), "нужен вход");
    }
}
