// RocksDbStore::List: newest first, from the cheapest source that can answer the query.
//   key (or type) set  -> the index entries of that key (type), newest first
//   a non-terminal state -> the in-memory map of non-terminal records
//   otherwise          -> the `status` column family, newest first, merged with the
//                         records of `live_` that may have no status entry yet
// The other filters are applied to each record the source yields. Each call examines at
// most kListScanBudget entries; when the budget runs out first, the page may hold fewer
// than `limit` records and next_cursor says where to go on (docs/storage.md).
#include <rocksdb/iterator.h>

#include <algorithm>
#include <array>

#include "store/rocksdb/errors.h"
#include "store/rocksdb/index_bucket.h"
#include "store/rocksdb/key_format.h"
#include "store/rocksdb/rocksdb_store.h"

namespace cmdq::rocksdb_store {
namespace {

constexpr uint32_t kMaxLimit = 1000;

// Walks ids of one key range newest first, below `before`.
class Backward {
 public:
  Backward(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string lower, std::string upper)
      : lower_(std::move(lower)), upper_(std::move(upper)) {
    ro_.iterate_lower_bound = &lower_slice_;
    ro_.iterate_upper_bound = &upper_slice_;
    it_.reset(db->NewIterator(ro_, cf));
    it_->SeekToLast();
  }
  bool Valid() const { return it_->Valid(); }
  void Prev() { it_->Prev(); }
  std::string_view key() const { return it_->key().ToStringView(); }
  std::string_view value() const { return it_->value().ToStringView(); }
  rocksdb::Status status() const { return it_->status(); }

 private:
  std::string lower_;
  std::string upper_;
  rocksdb::Slice lower_slice_{lower_};
  rocksdb::Slice upper_slice_{upper_};
  rocksdb::ReadOptions ro_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// The exclusive upper bound of ids below `before` within `prefix`.
std::string UpperBound(const std::string& prefix, CommandId before) {
  // Every entry is prefix + 8 bytes, so nine 0xff bytes sort after all of them.
  return before.valid() ? prefix + IdKey(before) : prefix + std::string(kIdBytes + 1, '\xff');
}

// A page collects one record more than asked: that one tells whether another page exists
// (and is dropped), so the last page comes with no cursor.
bool Full(const ListQuery& q, const ListPage& page) { return page.records.size() > q.limit; }

// Ends a scan that stopped at `last_examined` (a full page, or the scan budget spent).
ListPage Finish(const ListQuery& q, CommandId last_examined, ListPage& page) {
  if (Full(q, page)) {
    page.records.resize(q.limit);
    page.next_cursor = page.records.back().command.id;
  } else {
    // Budget spent: everything above last_examined was looked at.
    page.next_cursor = last_examined;
  }
  return std::move(page);
}

// Ids of one index source, newest first. A source that meets a malformed entry stops
// and says so in status().
class IdSource {
 public:
  virtual ~IdSource() = default;
  virtual std::optional<uint64_t> Peek() = 0;
  virtual void Pop() = 0;
  const Status& status() const { return status_; }

 protected:
  IdSource() = default;
  explicit IdSource(std::string_view path) : path_(path) {}
  void Fail(const rocksdb::Status& s) { status_ = FromRocks(s, path_, "list"); }
  void Corrupt(std::string_view what) {
    status_ = Status::Corruption(std::string(path_) + ": " + std::string(what));
  }
  Status status_;

 private:
  std::string_view path_;
};

class VectorIds final : public IdSource {
 public:
  explicit VectorIds(std::vector<uint64_t> descending) : ids_(std::move(descending)) {}
  std::optional<uint64_t> Peek() override {
    if (next_ == ids_.size()) return std::nullopt;
    return ids_[next_];
  }
  void Pop() override { ++next_; }

 private:
  std::vector<uint64_t> ids_;
  size_t next_ = 0;
};

// Single entries: prefix + id, one per command.
class SingleIds final : public IdSource {
 public:
  SingleIds(std::string_view path, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
            std::string prefix, CommandId before)
      : IdSource(path), prefix_(prefix), it_(db, cf, prefix, UpperBound(prefix, before)) {}
  std::optional<uint64_t> Peek() override {
    if (!it_.Valid()) {
      if (!it_.status().ok()) Fail(it_.status());
      return std::nullopt;
    }
    auto id = ParseIndexKey(it_.key(), prefix_);
    if (!id) {
      Corrupt("malformed index entry");
      return std::nullopt;
    }
    return id->value();
  }
  void Pop() override { it_.Prev(); }

 private:
  std::string prefix_;
  Backward it_;
};

// Buckets: prefix + lowest id, the ids in the value. One checkpoint's buckets cover ids
// no other checkpoint's do, so newest bucket first, newest id first is newest first.
class BucketIds final : public IdSource {
 public:
  BucketIds(std::string_view path, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
            std::string prefix, CommandId before)
      : IdSource(path),
        prefix_(prefix),
        limit_(before.valid() ? before.value() : UINT64_MAX),
        it_(db, cf, prefix, UpperBound(prefix, before)) {}
  std::optional<uint64_t> Peek() override {
    while (left_ == 0 && status_.ok() && it_.Valid()) Load();
    if (left_ == 0) {
      if (status_.ok() && !it_.status().ok()) Fail(it_.status());
      return std::nullopt;
    }
    return ids_[left_ - 1];
  }
  void Pop() override { --left_; }

 private:
  void Load() {
    auto lowest = ParseIndexKey(it_.key(), prefix_);
    if (!lowest) return Corrupt("malformed index bucket key");
    auto ids = DecodeIdBucket(it_.value(), lowest->value());
    if (!ids) return Corrupt(ids.error().message());
    ids_ = std::move(*ids);
    // Only ids below the cursor: the bucket that straddles it is cut there.
    left_ = std::lower_bound(ids_.begin(), ids_.end(), limit_) - ids_.begin();
    it_.Prev();
  }

  std::string prefix_;
  uint64_t limit_;
  Backward it_;
  std::vector<uint64_t> ids_;
  size_t left_ = 0;  // ids_[0, left_) are still to come, the highest last
};

}  // namespace

Status RocksDbStore::Collect(const ListQuery& q, CommandId id, std::optional<RecordStatus> status,
                             ListPage& page) const {
  if (status && q.state && status->state != *q.state) return Status::Ok();
  auto rec = Load(id, std::move(status));
  if (!rec) return rec.error();
  if (!*rec) return Status::Ok();
  const Record& r = **rec;
  if ((q.key && r.command.key != *q.key) || (q.type && r.command.type != *q.type) ||
      (q.state && r.state != *q.state)) {
    return Status::Ok();
  }
  page.records.push_back(std::move(**rec));
  return Status::Ok();
}

std::vector<uint64_t> RocksDbStore::PendingIndexIds(bool by_key, const std::string& value,
                                                    CommandId before) const {
  const uint64_t limit = before.valid() ? before.value() : UINT64_MAX;
  std::vector<uint64_t> ids;
  {
    std::shared_lock lock(index_mu_);
    for (const auto* entries : {&pending_index_, &checkpoint_index_}) {
      for (const PendingIndex& e : *entries) {
        if (e.id < limit && (by_key ? e.key : e.type) == value) ids.push_back(e.id);
      }
    }
  }
  std::sort(ids.begin(), ids.end(), std::greater<>());
  return ids;
}

Result<ListPage> RocksDbStore::ListFromIndex(const ListQuery& q, bool by_key,
                                             const std::string& value) const {
  // Three sources, each newest first: what no index entry holds yet (read first: a
  // checkpoint that lands meanwhile is then seen twice, never missed), the buckets of
  // the checkpoints, and the single entries of inserts below a watermark.
  VectorIds recent(PendingIndexIds(by_key, value, q.before));
  BucketIds buckets(path_, h_.db.get(), h_.index,
                    IndexPrefix(by_key ? kKeyBucketTag : kTypeBucketTag, value), q.before);
  SingleIds singles(path_, h_.db.get(), h_.index,
                    IndexPrefix(by_key ? kKeyIndexTag : kTypeIndexTag, value), q.before);
  std::array<IdSource*, 3> sources{&recent, &buckets, &singles};
  ListPage page;
  size_t examined = 0;
  for (;;) {
    std::optional<uint64_t> next;
    for (IdSource* source : sources) {
      auto id = source->Peek();
      if (id && (!next || *id > *next)) next = id;
    }
    for (IdSource* source : sources) {
      if (!source->status().ok()) return Error(source->status());
    }
    if (!next) break;
    for (IdSource* source : sources) {
      while (source->Peek() == next) source->Pop();  // one id, once
    }
    const CommandId id(*next);
    if (Status s = Collect(q, id, std::nullopt, page); !s.ok()) return Error(std::move(s));
    if (Full(q, page) || ++examined == kListScanBudget) return Finish(q, id, page);
  }
  return page;
}

Result<ListPage> RocksDbStore::ListFromLive(const ListQuery& q) const {
  // Ids and statuses are copied under the lock; commands are read after it.
  std::vector<std::pair<CommandId, RecordStatus>> found;
  CommandId last_examined;
  bool budget_out = false;
  {
    std::shared_lock lock(live_mu_);
    auto end = q.before.valid() ? live_.lower_bound(q.before) : live_.end();
    size_t examined = 0;
    for (auto it = std::make_reverse_iterator(end); it != live_.rend(); ++it) {
      last_examined = it->first;
      if (it->second.state == *q.state) found.emplace_back(it->first, it->second);
      if (found.size() > q.limit || ++examined == kListScanBudget) {
        budget_out = true;
        break;
      }
    }
  }
  ListPage page;
  for (auto& [id, st] : found) {
    if (Status s = Collect(q, id, std::move(st), page); !s.ok()) return Error(std::move(s));
  }
  if (budget_out || Full(q, page)) return Finish(q, last_examined, page);
  return page;
}

std::vector<CommandId> RocksDbStore::UnstoredIds(CommandId before) const {
  std::vector<CommandId> out;
  const uint64_t complete_below = complete_below_.load();
  std::shared_lock lock(live_mu_);
  auto end = before.valid() ? live_.lower_bound(before) : live_.end();
  for (auto it = std::make_reverse_iterator(end);
       it != live_.rend() && it->first.value() >= complete_below && out.size() < kListScanBudget;
       ++it) {
    if (it->second.audit.size() == 1) out.push_back(it->first);
  }
  return out;
}

Result<ListPage> RocksDbStore::ListFromStatus(const ListQuery& q) const {
  // Commands inserted since the last checkpoint may have no status entry yet; `live_`
  // has them. Read before the iterator opens, so that none is missed between the two;
  // one found in both sources is taken once.
  std::vector<CommandId> unstored;
  if (!q.state || !IsTerminal(*q.state)) unstored = UnstoredIds(q.before);
  size_t next_unstored = 0;
  Backward it(h_.db.get(), h_.status, std::string(),
              q.before.valid() ? IdKey(q.before) : std::string(kIdBytes + 1, '\xff'));
  ListPage page;
  size_t examined = 0;
  for (;;) {
    std::optional<CommandId> stored;
    if (it.Valid()) {
      stored = ParseIdKey(it.key());
      if (!stored) return Error(Status::Corruption(path_ + ": malformed status key"));
    }
    CommandId id;
    if (next_unstored < unstored.size() && (!stored || unstored[next_unstored] >= *stored)) {
      id = unstored[next_unstored++];
      if (stored && *stored == id) it.Prev();
      if (Status s = Collect(q, id, std::nullopt, page); !s.ok()) return Error(std::move(s));
    } else if (stored) {
      id = *stored;
      std::string_view v = it.value();
      // The state is the first field, one byte: most non-matching entries stop here.
      bool skip = q.state && v.size() > 2 && v[0] == kRecordStatusMagic &&
                  v[1] == static_cast<char>(kCodecVersion) &&
                  static_cast<uint8_t>(v[2]) != static_cast<uint8_t>(*q.state);
      if (!skip) {
        auto st = DecodeRecordStatus(v, id);
        if (!st) return Error(Status::Corruption(path_ + ": " + st.error().message()));
        if (Status s = Collect(q, id, std::move(*st), page); !s.ok()) return Error(std::move(s));
      }
      it.Prev();
    } else {
      break;
    }
    if (Full(q, page) || ++examined == kListScanBudget) return Finish(q, id, page);
  }
  if (!it.status().ok()) return Error(FromRocks(it.status(), path_, "list"));
  return page;
}

Result<ListPage> RocksDbStore::List(const ListQuery& q) const {
  if (q.limit < 1 || q.limit > kMaxLimit) {
    return Error(Status::InvalidArgument(
        "limit", "limit must be between 1 and 1000, got " + std::to_string(q.limit)));
  }
  if (index_key_and_type_ && q.key) return ListFromIndex(q, true, *q.key);
  if (index_key_and_type_ && q.type) return ListFromIndex(q, false, *q.type);
  if (q.state && !IsTerminal(*q.state)) return ListFromLive(q);
  return ListFromStatus(q);
}

}  // namespace cmdq::rocksdb_store
