# Run by `rails runner` in a fresh Redmine instance: the default data (roles,
# trackers, statuses, priorities) in English, accounts admin and
# user01..user20 with the suite's password, one public project "fidelity"
# with issue tracking whose members they all are, and issue ids from IDBASE.
pass = ENV.fetch('FIDELITY_PASSWORD')
idbase = Integer(ENV.fetch('FIDELITY_IDBASE'))

Redmine::DefaultData::Loader.load('en') if Redmine::DefaultData::Loader.no_data?
Setting.default_language = 'en'
admin = User.find_by_login('admin')
admin.password = admin.password_confirmation = pass
admin.must_change_passwd = false
admin.save!

project = Project.new(name: 'Fidelity', identifier: 'fidelity', is_public: true)
project.enabled_module_names = %w[issue_tracking]
project.trackers = Tracker.all
project.save!

role = Role.find_by(name: 'Developer') || Role.givable.first
(1..20).each do |i|
  u = User.new(firstname: 'User', lastname: format('%02d', i), mail: format('user%02d@example.org', i))
  u.login = format('user%02d', i)
  u.password = u.password_confirmation = pass
  u.status = User::STATUS_ACTIVE
  u.save!
  Member.create!(project: project, principal: u, roles: [role])
end

if idbase > 1
  # issues.id has no AUTOINCREMENT (SQLite then hands out max(id)+1), so the
  # next id is set by an issue IDBASE-1 kept in an archived placeholder project.
  hold = Project.new(name: 'Placeholder', identifier: 'placeholder', is_public: false)
  hold.enabled_module_names = %w[issue_tracking]
  hold.trackers = Tracker.all
  hold.save!
  issue = Issue.new(project: hold, tracker: hold.trackers.first, author: admin,
                    subject: 'placeholder: issue ids of the suite start after this one')
  issue.id = idbase - 1
  issue.save!
  hold.archive
end
puts "setup: #{User.count} users, project #{project.identifier}, trackers #{project.trackers.map(&:name).join(',')}"
